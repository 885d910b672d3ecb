"""Path checks for every tool call: a path an agent names must stay inside its workspace.

A path is refused when it is empty, absolute, contains a NUL byte or a `..` component, points
into `.git`, or resolves (symlinks followed) outside the workspace root. The messages go back to
the model, so they say what was wrong and what is allowed.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

__all__ = ["ALLOWED", "ToolError", "relative_posix", "resolve_path"]

ALLOWED = "use a relative path inside the repository, e.g. src/app.py or tests/test_app.py"


class ToolError(Exception):
    """A refused or failed tool call; the message is shown to the model."""


def resolve_path(root: Path, rel: str, *, must_exist: bool) -> Path:
    """The resolved absolute path of ``rel`` under ``root``, or :class:`ToolError`."""
    if not isinstance(rel, str) or not rel.strip():
        raise ToolError(f"empty path; {ALLOWED}")
    if "\x00" in rel:
        raise ToolError(f"path contains a NUL byte; {ALLOWED}")
    if "\\" in rel:
        raise ToolError(f"path {rel!r} contains a backslash; use forward slashes; {ALLOWED}")
    pure = PurePosixPath(rel)
    if pure.is_absolute() or rel.startswith("~"):
        raise ToolError(f"absolute path {rel!r} refused; {ALLOWED}")
    if ".." in pure.parts:
        raise ToolError(f"path {rel!r} contains '..'; {ALLOWED} without '..'")
    if _in_git(pure.parts):
        raise ToolError(f"path {rel!r} is inside .git, which agents may not touch; {ALLOWED}")
    base = root.resolve()
    target = (base / pure).resolve(strict=False)
    if not target.is_relative_to(base):
        raise ToolError(
            f"path {rel!r} resolves outside the repository (through a symlink?); "
            f"only files inside the repository are allowed"
        )
    if _in_git(target.relative_to(base).parts):
        raise ToolError(f"path {rel!r} resolves into .git, which agents may not touch; {ALLOWED}")
    if must_exist and not target.exists():
        raise ToolError(f"no such file or directory: {rel!r} (list_files shows what exists)")
    return target


def relative_posix(root: Path, path: Path) -> str:
    """``path`` (already resolved, inside ``root``) relative to the resolved root, POSIX style."""
    rel = path.relative_to(root.resolve()).as_posix()
    return rel or "."


def _in_git(parts: tuple[str, ...]) -> bool:
    return any(part.lower() == ".git" for part in parts)
