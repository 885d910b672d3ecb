"""The files of a workspace an agent's context may draw from: text only, read once, digested.

Skipped: version-control and tool directories, vendored and built trees, lock files and
minified assets, symlinks (they may point out of the workspace), binaries (a NUL byte or
invalid UTF-8) and files over `MAX_FILE_BYTES`. At most `MAX_FILES` files, in path order.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MAX_FILES", "MAX_FILE_BYTES", "SourceFile", "digest_of", "scan_workspace"]

MAX_FILE_BYTES = 200_000
MAX_FILES = 2_000
SKIP_DIRS = frozenset(
    {
        *(".git", ".hg", ".svn", ".venv", "venv", ".tox", ".nox", ".eggs", "__pycache__"),
        *(".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis", ".idea", ".vscode"),
        *("node_modules", "vendor", "third_party", "site-packages", "dist", "build", "htmlcov"),
    }
)
SKIP_NAMES = frozenset({"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "uv.lock"})
SKIP_SUFFIXES = (".lock", ".min.js", ".min.css", ".map", ".pyc", ".pyo", ".so")


@dataclass(frozen=True)
class SourceFile:
    path: str  # relative to the workspace root, with forward slashes
    text: str
    digest: str  # sha256 of the bytes on disk


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def scan_workspace(root: Path) -> list[SourceFile]:
    found: list[SourceFile] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not _skipped_dir(d))
        for name in sorted(filenames):
            loaded = _load(Path(dirpath) / name, root)
            if loaded is not None:
                found.append(loaded)
            if len(found) >= MAX_FILES:
                return sorted(found, key=lambda f: f.path)
    return sorted(found, key=lambda f: f.path)


def _skipped_dir(name: str) -> bool:
    return name in SKIP_DIRS or name.endswith(".egg-info")


def _load(path: Path, root: Path) -> SourceFile | None:
    if path.name in SKIP_NAMES or path.name.endswith(SKIP_SUFFIXES) or path.is_symlink():
        return None
    try:
        if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b"\0" in data[:8192]:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return SourceFile(path.relative_to(root).as_posix(), text, digest_of(data))
