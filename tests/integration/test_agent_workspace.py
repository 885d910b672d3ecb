"""Workspace on a real bare remote: clone, story branch, commit, push, main untouched."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from services.cli.sample_repo import make_sample_repo
from shared.agents.workspace import Workspace, WorkspaceError, git, story_branch

BRANCH = "awf/S-1"


def run_git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    source = make_sample_repo(tmp_path / "source")
    bare = tmp_path / "remote.git"
    run_git(tmp_path, "clone", "--quiet", "--bare", str(source), str(bare))
    return bare


def remote_sha(remote: Path, branch: str) -> str:
    return run_git(remote, "rev-parse", f"refs/heads/{branch}")


async def clone(remote: Path, dest: Path, branch: str = BRANCH) -> Workspace:
    return await Workspace.clone(str(remote), dest, branch, "main")


def test_story_branch() -> None:
    assert story_branch("S-12") == "awf/S-12"
    assert story_branch("01HZX.abc_d") == "awf/01HZX.abc_d"
    for bad in ("", "-x", "a/b", "a..b", "a b", "x.lock", "a:b", ".hidden"):
        with pytest.raises(ValueError):
            story_branch(bad)


async def test_clone_creates_the_story_branch_from_main(remote: Path, tmp_path: Path) -> None:
    ws = await clone(remote, tmp_path / "ws")
    assert await ws.current_branch() == BRANCH
    assert await ws.head() == remote_sha(remote, "main")
    assert (ws.root / "calculator.py").is_file()
    assert await ws.is_clean()
    assert await ws.status() == []


async def test_commit_push_and_main_untouched(remote: Path, tmp_path: Path) -> None:
    main_before = remote_sha(remote, "main")
    ws = await clone(remote, tmp_path / "ws")
    assert await ws.commit("nothing yet") is None
    (ws.root / "tests" / "test_add.py").write_text("def test_add():\n    assert False\n")
    assert not await ws.is_clean()
    sha = await ws.commit("S-1 TEST_RED: failing test for add", author="qa agent")
    assert sha is not None
    assert await ws.is_clean()
    await ws.push()
    assert remote_sha(remote, BRANCH) == sha
    assert remote_sha(remote, "main") == main_before
    log = run_git(ws.root, "log", "-1", "--format=%an|%ae|%s")
    assert log == "qa agent|agent@awf.invalid|S-1 TEST_RED: failing test for add"
    assert await ws.commit("again") is None


async def test_reclone_checks_out_the_existing_story_branch(remote: Path, tmp_path: Path) -> None:
    first = await clone(remote, tmp_path / "one")
    (first.root / "notes.md").write_text("design\n")
    sha = await first.commit("S-1 DESIGN: note")
    await first.push()
    first.cleanup()
    assert not first.root.exists()

    second = await clone(remote, tmp_path / "two")
    assert await second.current_branch() == BRANCH
    assert await second.head() == sha
    assert (second.root / "notes.md").read_text() == "design\n"
    (second.root / "calculator.py").write_text("def add(a, b):\n    return a + b\n")
    sha2 = await second.commit("S-1 CODE_GREEN: add")
    await second.push()  # a fast-forward of the story branch
    assert remote_sha(remote, BRANCH) == sha2


async def test_push_refuses_the_default_branch(remote: Path, tmp_path: Path) -> None:
    main_before = remote_sha(remote, "main")
    ws = await clone(remote, tmp_path / "ws")
    (ws.root / "calculator.py").write_text("broken = True\n")
    run_git(ws.root, "checkout", "--quiet", "-B", "main")
    await ws.commit("sneaky commit on main")
    with pytest.raises(WorkspaceError, match="default branch"):
        await ws.push()
    rogue = Workspace(ws.root, "main", "main")
    with pytest.raises(WorkspaceError, match="default branch"):
        await rogue.push()
    assert remote_sha(remote, "main") == main_before
    with pytest.raises(WorkspaceError, match="default branch"):
        await Workspace.clone(str(remote), tmp_path / "main-ws", "main", "main")


async def test_push_refuses_another_branch(remote: Path, tmp_path: Path) -> None:
    ws = await clone(remote, tmp_path / "ws")
    run_git(ws.root, "checkout", "--quiet", "-b", "awf/other")
    with pytest.raises(WorkspaceError, match="not 'awf/S-1'"):
        await ws.push()


async def test_changed_files_diff_status_and_digests(remote: Path, tmp_path: Path) -> None:
    ws = await clone(remote, tmp_path / "ws")
    base = await ws.head()
    (ws.root / "tests" / "test_add.py").write_text("def test_add():\n    pass\n")
    await ws.commit("S-1 TEST_RED")
    (ws.root / "calculator.py").write_text("def add(a, b):\n    return a + b\n")
    (ws.root / "docs").mkdir()
    (ws.root / "docs" / "design.md").write_text("# Design\n")
    (ws.root / "README.md").unlink()

    assert await ws.changed_files(base) == [
        "README.md",
        "calculator.py",
        "docs/design.md",
        "tests/test_add.py",
    ]
    assert await ws.changed_files(await ws.head()) == [
        "README.md",
        "calculator.py",
        "docs/design.md",
    ]
    assert sorted(await ws.status()) == [" D README.md", " M calculator.py", "?? docs/design.md"]

    diff = await ws.diff()
    assert "+def add(a, b):" in diff
    assert "+++ b/docs/design.md" in diff
    assert "-# Calculator" in diff
    only = await ws.diff("calculator.py")
    assert "calculator.py" in only
    assert "design.md" not in only

    digests = ws.file_digests(["tests/test_add.py", "tests/test_calculator.py", "gone.py"])
    assert set(digests) == {"tests/test_add.py", "tests/test_calculator.py"}
    assert all(len(d) == 64 for d in digests.values())
    (ws.root / "tests" / "test_add.py").write_text("def test_add():\n    assert True\n")
    assert ws.file_digests(["tests/test_add.py"]) != {
        "tests/test_add.py": digests["tests/test_add.py"]
    }


async def test_clone_failures_are_clear_and_leave_nothing(tmp_path: Path, remote: Path) -> None:
    dest = tmp_path / "ws"
    with pytest.raises(WorkspaceError, match="git clone failed"):
        await Workspace.clone(str(tmp_path / "no-such-remote"), dest, BRANCH, "main")
    assert not dest.exists()
    with pytest.raises(WorkspaceError, match="no default branch 'trunk'"):
        await Workspace.clone(str(remote), dest, BRANCH, "trunk")
    assert not dest.exists()
    for bad in ("ext::sh -c touch% /tmp/pwned", "--upload-pack=evil", ""):
        with pytest.raises(WorkspaceError, match="unsupported git remote"):
            await Workspace.clone(bad, dest, BRANCH, "main")


async def test_file_url_remote(remote: Path, tmp_path: Path) -> None:
    ws = await Workspace.clone(remote.as_uri(), tmp_path / "ws", BRANCH, "main")
    assert await ws.head() == remote_sha(remote, "main")


async def test_git_calls_time_out_with_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="timed out"):
        await git(tmp_path, "--version", timeout_s=1e-6)
