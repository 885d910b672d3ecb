"""MirrorCache on real remotes: one bare mirror per remote, reused and refreshed across
checkouts, remade when broken, bounded, and shared safely by concurrent checkouts."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from services.cli.sample_repo import make_sample_repo
from shared.agents.mirrors import MirrorCache
from shared.agents.workspace import WorkspaceError

pytestmark = pytest.mark.integration


def run_git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def bare_remote(tmp_path: Path, name: str) -> str:
    source = make_sample_repo(tmp_path / f"{name}-source")
    bare = tmp_path / f"{name}.git"
    run_git(tmp_path, "clone", "--quiet", "--bare", str(source), str(bare))
    return str(bare)


def sha_of(remote: str, ref: str) -> str:
    return run_git(Path(remote), "rev-parse", ref)


def push_from_elsewhere(tmp_path: Path, remote: str, branch: str, name: str) -> str:
    """Another worker's push: a plain clone of the remote commits ``name`` on ``branch``."""
    other = tmp_path / f"elsewhere-{name}"
    run_git(tmp_path, "clone", "--quiet", remote, str(other))
    run_git(other, "checkout", "--quiet", "-B", branch, f"origin/{branch}")
    (other / name).write_text(f"{name}\n")
    run_git(other, "add", "-A")
    run_git(other, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", name)
    run_git(other, "push", "--quiet", "origin", f"HEAD:refs/heads/{branch}")
    return run_git(other, "rev-parse", "HEAD")


@pytest.fixture
def remote(tmp_path: Path) -> str:
    return bare_remote(tmp_path, "remote")


@pytest.fixture
async def cache(tmp_path: Path) -> AsyncIterator[MirrorCache]:
    mirrors = MirrorCache(tmp_path / "cache", max_mirrors=2)
    try:
        yield mirrors
    finally:
        await mirrors.close()


async def commit_and_push(cache: MirrorCache, remote: str, branch: str, name: str) -> str:
    async with cache.workspace(remote, branch, "main") as ws:
        (ws.root / name).write_text(f"{name}\n")
        sha = await ws.commit(f"add {name}")
        assert sha is not None
        await ws.push()
        return sha


def mirror_of(cache: MirrorCache, remote: str) -> Path:
    path = cache.mirror_path(remote)
    assert path is not None
    return path


def mirror_dirs(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "cache" / "mirrors").iterdir())


async def test_checkouts_share_one_mirror_that_each_refreshes_from_the_remote(
    tmp_path: Path, cache: MirrorCache, remote: str
) -> None:
    first = await commit_and_push(cache, remote, "awf/S-1", "one.md")
    mirror = mirror_of(cache, remote)
    made = mirror.stat().st_ino
    theirs = push_from_elsewhere(tmp_path, remote, "awf/S-1", "two.md")

    async with cache.workspace(remote, "awf/S-1", "main") as ws:
        assert ws.base == theirs  # fetched: the other worker's push on top of ours
        assert run_git(ws.root, "rev-parse", "HEAD^") == first
        assert (ws.root / "two.md").is_file()
        alternates = ws.root / ".git" / "objects" / "info" / "alternates"
        assert alternates.read_text().strip() == str((mirror / "objects").resolve())
        (ws.root / "three.md").write_text("3\n")
        third = await ws.commit("add three.md")
        await ws.push()
    assert sha_of(remote, "refs/heads/awf/S-1") == third  # pushed to the remote itself

    async with cache.workspace(remote, "awf/S-2", "main") as fresh:
        assert fresh.base == sha_of(remote, "refs/heads/main")
        assert await fresh.current_branch() == "awf/S-2"
    assert mirror_of(cache, remote) == mirror
    assert mirror.stat().st_ino == made  # never cloned again
    assert mirror_dirs(tmp_path) == [mirror.name]
    assert sha_of(remote, "refs/heads/main") == run_git(mirror, "rev-parse", "refs/heads/main")


async def fail_inside(cache: MirrorCache, remote: str, roots: list[Path]) -> None:
    async with cache.workspace(remote, "awf/S-2", "main") as ws:
        roots.append(ws.root)
        raise RuntimeError("boom")


async def test_working_trees_are_deleted_after_their_block(
    tmp_path: Path, cache: MirrorCache, remote: str
) -> None:
    async with cache.workspace(remote, "awf/S-1", "main") as ws:
        root = ws.root
        assert (root / "calculator.py").is_file()
    failed: list[Path] = []
    with pytest.raises(RuntimeError, match="boom"):
        await fail_inside(cache, remote, failed)
    await cache.close()  # waits for the deletions that run off the phase's path
    assert not root.exists()
    assert failed
    assert not failed[0].exists()
    assert not (tmp_path / "cache" / "ws").exists()


def _delete(mirror: Path) -> None:
    shutil.rmtree(mirror)


def _no_object_store(mirror: Path) -> None:
    shutil.rmtree(mirror / "objects")
    (mirror / "objects").write_text("not a directory\n")


def _garble_refs(mirror: Path) -> None:
    (mirror / "HEAD").write_text("garbage\n")
    (mirror / "packed-refs").write_text("not a packed-refs file\n")


@pytest.mark.parametrize("damage", [_delete, _no_object_store, _garble_refs])
async def test_a_missing_or_broken_mirror_is_made_again(
    tmp_path: Path, cache: MirrorCache, remote: str, damage: Callable[[Path], None]
) -> None:
    first = await commit_and_push(cache, remote, "awf/S-1", "one.md")
    broken = mirror_of(cache, remote)
    damage(broken)

    with capture_logs() as logs:
        second = await commit_and_push(cache, remote, "awf/S-1", "two.md")

    assert sha_of(remote, "refs/heads/awf/S-1") == second
    assert sha_of(remote, f"{second}^") == first
    mirror = mirror_of(cache, remote)
    if damage is _delete:  # simply made again where it was
        assert [e["event"] for e in logs] == ["mirror_created"]
        assert mirror == broken
    else:  # a new copy beside the broken one, which goes
        assert [e["event"] for e in logs] == ["mirror_replaced", "mirror_created"]
        assert mirror != broken
        await cache.settle()
        assert not broken.exists()
    assert run_git(mirror, "rev-parse", "refs/heads/awf/S-1") == first  # from the remote
    run_git(mirror, "fsck", "--no-progress")
    run_git(Path(remote), "fsck", "--no-progress")  # the mirror's damage never reached it


async def test_a_copy_replaced_or_evicted_under_a_live_workspace_goes_only_after_it(
    tmp_path: Path,
) -> None:
    remote, other = bare_remote(tmp_path, "remote"), bare_remote(tmp_path, "other")
    cache = MirrorCache(tmp_path / "cache", max_mirrors=1)
    try:
        async with cache.workspace(remote, "awf/S-1", "main") as ws:
            borrowed = mirror_of(cache, remote)
            _garble_refs(borrowed)  # its objects are intact: the live workspace still works
            await commit_and_push(cache, remote, "awf/S-2", "b.md")  # replaces the copy
            replacement = mirror_of(cache, remote)
            async with cache.workspace(remote, "awf/S-3", "main") as evicted_ws:
                await commit_and_push(cache, other, "awf/S-1", "o.md")  # evicts `remote`
                assert cache.mirror_path(remote) is None
                (evicted_ws.root / "e.md").write_text("e\n")
                await evicted_ws.commit("add e.md")
                await evicted_ws.push()
            (ws.root / "a.md").write_text("a\n")
            sha = await ws.commit("add a.md")
            await ws.push()
            await cache.settle()
            assert borrowed.exists()  # still borrowed by `ws`
            assert not replacement.exists()  # its last borrower ended
        await cache.settle()
        assert not borrowed.exists()
        assert sha_of(remote, "refs/heads/awf/S-1") == sha
        assert mirror_dirs(tmp_path) == [mirror_of(cache, other).name]
    finally:
        await cache.close()


async def test_a_remote_that_fails_leaves_no_mirror_and_no_tree(
    tmp_path: Path, cache: MirrorCache
) -> None:
    missing = str(tmp_path / "no-such-remote.git")
    with pytest.raises(WorkspaceError, match="git clone failed"):
        async with cache.workspace(missing, "awf/S-1", "main"):
            pass
    with pytest.raises(WorkspaceError, match="no default branch 'trunk'"):
        async with cache.workspace(bare_remote(tmp_path, "r"), "awf/S-1", "trunk"):
            pass
    for bad in ("ext::sh -c touch% /tmp/pwned", "--upload-pack=evil", ""):
        with pytest.raises(WorkspaceError, match="unsupported git remote"):
            async with cache.workspace(bad, "awf/S-1", "main"):
                pass
    with pytest.raises(WorkspaceError, match="default branch"):
        async with cache.workspace(missing, "main", "main"):
            pass
    await cache.close()
    assert not (tmp_path / "cache" / "ws").exists()
    assert not (tmp_path / "cache" / "mirrors").exists()


async def test_concurrent_checkouts_of_one_project_share_the_mirror_and_a_stale_push_loses(
    tmp_path: Path, cache: MirrorCache, remote: str
) -> None:
    """Four phases at once in one process: three stories, and one story twice (a retaken
    phase beside its stale job). Both of those start from the same commit, so whichever
    pushes second is refused by the remote and cannot overwrite the other."""
    barrier = asyncio.Barrier(4)

    async def phase(branch: str, name: str) -> str:
        async with cache.workspace(remote, branch, "main") as ws:
            (ws.root / name).write_text(f"{name}\n")
            sha = await ws.commit(f"add {name}")
            assert sha is not None
            await barrier.wait()  # every clone is made before anyone pushes
            await ws.push()
            return sha

    runs = [("awf/S-1", "a.md"), ("awf/S-2", "b.md"), ("awf/S-3", "c.md"), ("awf/S-1", "d.md")]
    results = await asyncio.gather(*(phase(*run) for run in runs), return_exceptions=True)

    for (branch, _), result in zip(runs[1:3], results[1:3], strict=True):
        assert sha_of(remote, f"refs/heads/{branch}") == result
    twins = [results[0], results[3]]
    pushed = [r for r in twins if isinstance(r, str)]
    refused = [r for r in twins if isinstance(r, WorkspaceError)]
    assert len(pushed) == 1
    assert len(refused) == 1
    assert "rejected" in str(refused[0])
    assert sha_of(remote, "refs/heads/awf/S-1") == pushed[0]
    assert mirror_dirs(tmp_path) == [mirror_of(cache, remote).name]


async def test_the_cache_keeps_at_most_its_size_and_never_evicts_a_mirror_in_use(
    tmp_path: Path,
) -> None:
    remotes = [bare_remote(tmp_path, f"r{i}") for i in range(3)]
    cache = MirrorCache(tmp_path / "cache", max_mirrors=1)
    try:
        shas = await asyncio.gather(
            *(commit_and_push(cache, r, "awf/S-1", "x.md") for r in remotes)
        )
        for remote, sha in zip(remotes, shas, strict=True):
            assert sha_of(remote, "refs/heads/awf/S-1") == sha  # none lost its mirror midway

        await commit_and_push(cache, remotes[0], "awf/S-2", "y.md")
        assert cache.mirror_path(remotes[1]) is None
        assert cache.mirror_path(remotes[2]) is None
        kept = mirror_of(cache, remotes[0])
    finally:
        await cache.close()
    assert not kept.exists()
