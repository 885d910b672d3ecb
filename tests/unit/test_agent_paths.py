"""resolve_path keeps every tool path inside the workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.agents.paths import ToolError, relative_posix, resolve_path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "app.py").write_text("x = 1\n")
    (ws / ".git").mkdir()
    (ws / ".git" / "config").write_text("[core]\n")
    return ws


@pytest.mark.parametrize(
    "rel",
    ["src/app.py", "./src/app.py", "src//app.py", "src/new_file.py", "."],
)
def test_relative_paths_inside_resolve(root: Path, rel: str) -> None:
    target = resolve_path(root, rel, must_exist=False)
    assert target.is_relative_to(root.resolve())


def test_resolved_path_is_absolute_and_normalised(root: Path) -> None:
    assert resolve_path(root, "./src//app.py", must_exist=True) == root.resolve() / "src/app.py"
    assert relative_posix(root, resolve_path(root, ".", must_exist=True)) == "."


@pytest.mark.parametrize(
    ("rel", "fragment"),
    [
        ("", "empty path"),
        ("   ", "empty path"),
        ("/etc/passwd", "absolute path"),
        ("~/secrets", "absolute path"),
        ("../outside.txt", "'..'"),
        ("src/../../outside.txt", "'..'"),
        ("src/..", "'..'"),
        ("a\x00b", "NUL"),
        ("src\\app.py", "backslash"),
        (".git/config", ".git"),
        (".git", ".git"),
        ("sub/.git/hooks/pre-commit", ".git"),
        (".GIT/config", ".git"),
    ],
)
def test_refused_paths_say_why(root: Path, rel: str, fragment: str) -> None:
    with pytest.raises(ToolError) as info:
        resolve_path(root, rel, must_exist=False)
    assert fragment in str(info.value)
    assert "relative path" in str(info.value) or "repository" in str(info.value)


def test_missing_file_refused_only_when_it_must_exist(root: Path) -> None:
    assert resolve_path(root, "src/missing.py", must_exist=False).name == "missing.py"
    with pytest.raises(ToolError, match="no such file"):
        resolve_path(root, "src/missing.py", must_exist=True)


def test_symlink_to_etc_is_refused(root: Path) -> None:
    (root / "etc").symlink_to("/etc")
    (root / "passwd").symlink_to("/etc/passwd")
    for rel in ("etc/passwd", "passwd", "etc"):
        with pytest.raises(ToolError, match="outside the repository"):
            resolve_path(root, rel, must_exist=False)


def test_symlink_to_sibling_dir_is_refused(root: Path, tmp_path: Path) -> None:
    sibling = tmp_path / "ws-other"
    sibling.mkdir()
    (sibling / "secret.txt").write_text("s3cret")
    (root / "other").symlink_to(sibling)
    with pytest.raises(ToolError, match="outside the repository"):
        resolve_path(root, "other/secret.txt", must_exist=True)
    with pytest.raises(ToolError, match="outside the repository"):
        resolve_path(root, "other/new.txt", must_exist=False)


def test_sibling_with_common_prefix_is_not_inside(root: Path, tmp_path: Path) -> None:
    """`/tmp/ws-evil` starts with the string `/tmp/ws` but is not inside it."""
    evil = tmp_path / "wsevil"
    evil.mkdir()
    (root / "link").symlink_to(evil)
    with pytest.raises(ToolError, match="outside the repository"):
        resolve_path(root, "link/x.py", must_exist=False)


def test_dangling_symlink_outside_is_refused(root: Path, tmp_path: Path) -> None:
    (root / "dangling.py").symlink_to(tmp_path / "not-yet-there.py")
    with pytest.raises(ToolError, match="outside the repository"):
        resolve_path(root, "dangling.py", must_exist=False)


def test_symlink_into_git_is_refused(root: Path) -> None:
    (root / "cfg").symlink_to(root / ".git" / "config")
    with pytest.raises(ToolError, match=r"\.git"):
        resolve_path(root, "cfg", must_exist=True)


def test_symlink_inside_the_workspace_is_allowed(root: Path) -> None:
    (root / "lib").symlink_to(root / "src")
    (root / "app_link.py").symlink_to(root / "src" / "app.py")
    assert resolve_path(root, "lib/app.py", must_exist=True) == root.resolve() / "src/app.py"
    assert resolve_path(root, "app_link.py", must_exist=True) == root.resolve() / "src/app.py"


def test_root_given_through_a_symlink(tmp_path: Path, root: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(root)
    assert resolve_path(alias, "src/app.py", must_exist=True) == root.resolve() / "src/app.py"
