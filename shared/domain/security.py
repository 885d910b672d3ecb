"""Which changed files are security-critical: those a human approves before they land."""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from pathlib import PurePosixPath

__all__ = ["security_critical"]


def security_critical(paths: Iterable[str], patterns: Iterable[str]) -> list[str]:
    """The paths matching a pattern, in order. A pattern with a '/' matches the whole
    repository-relative path; one without matches any part of it (a directory or the file)."""
    globs = [g.lower() for g in patterns]
    return [p for p in paths if any(_matches(p.lower(), g) for g in globs)]


def _matches(path: str, glob: str) -> bool:
    if "/" in glob:
        return fnmatchcase(path, glob)
    return any(fnmatchcase(part, glob) for part in PurePosixPath(path).parts)
