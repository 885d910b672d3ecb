"""A backup folder on disk: its name, its manifest with checksums, and retention.

A backup is written under a hidden staging name and renamed to ``awf-backup-<UTC timestamp>``
only once complete, so a folder with that name is always whole. Retention reads the age from the
name (copies keep it, unlike mtimes) and touches nothing else in the backup root.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.state.backup import BackupError

__all__ = [
    "MANIFEST",
    "FileEntry",
    "Manifest",
    "apply_retention",
    "file_entries",
    "load_manifest",
    "staging_paths",
    "write_manifest",
]

MANIFEST = "manifest.json"
_PREFIX = "awf-backup-"
_STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(rf"^{_PREFIX}(\d{{8}}T\d{{6}}Z)(?:-\d+)?$")


class FileEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sha256: str
    bytes: int


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["awf-backup"] = "awf-backup"
    format_version: Literal[1] = 1
    created_at: datetime
    source: dict[str, Any] = Field(default_factory=dict)
    counts: dict[str, Any] = Field(default_factory=dict)
    rdb: dict[str, Any] = Field(default_factory=dict)
    projects: list[str] = Field(default_factory=list)
    encryption: str | None = None  # the scheme of shared.state.backup_crypto; None: plaintext
    files: dict[str, FileEntry]


def staging_paths(root: Path, now: datetime) -> tuple[Path, Path]:
    """(where to write, the final name): ``awf-backup-<stamp>``, with -2, -3... on a clash."""
    base = f"{_PREFIX}{now.astimezone(UTC).strftime(_STAMP)}"
    final, n = root / base, 1
    while final.exists():
        n += 1
        final = root / f"{base}-{n}"
    return root / f".{final.name}.partial", final


def file_entries(folder: Path) -> dict[str, FileEntry]:
    """Checksum and size of every file in `folder` but the manifest, by relative path."""
    entries = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if relative != MANIFEST:
            entries[relative] = FileEntry(sha256=_sha256(path), bytes=path.stat().st_size)
    return entries


def write_manifest(folder: Path, manifest: Manifest) -> None:
    text = json.dumps(manifest.model_dump(mode="json"), indent=2)
    (folder / MANIFEST).write_text(text + "\n", encoding="utf-8")


def load_manifest(folder: Path) -> Manifest:
    """The manifest, once every file it lists is present with the checksum it records."""
    if not folder.is_dir():
        raise BackupError(f"{folder} is not a directory")
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} has no {MANIFEST}: it is not an awf backup folder")
    try:
        manifest = Manifest.model_validate_json(path.read_bytes())
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise BackupError(f"{path} is corrupt ({where}: {first['msg']})") from None
    for relative, expected in manifest.files.items():
        _check_file(folder, relative, expected)
    return manifest


def apply_retention(root: Path, days: int, now: datetime) -> list[Path]:
    """Delete backup folders named for a time more than `days` before `now`; 0 keeps all."""
    if days <= 0 or not root.is_dir():
        return []
    cutoff = now - timedelta(days=days)
    deleted = []
    for path in sorted(root.iterdir()):
        taken = _taken_at(path.name)
        if taken is not None and taken < cutoff and path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
            deleted.append(path)
    return deleted


def _taken_at(name: str) -> datetime | None:
    match = _NAME.match(name)
    if match is None:
        return None
    return datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)


def _check_file(folder: Path, relative: str, expected: FileEntry) -> None:
    path = folder / relative
    if not path.resolve().is_relative_to(folder.resolve()):
        raise BackupError(f"{MANIFEST} names a file outside the backup: {relative}")
    if not path.is_file():
        raise BackupError(f"{relative} is missing from {folder}: the backup is incomplete")
    if _sha256(path) != expected.sha256:
        raise BackupError(f"{relative} does not match its checksum: the backup is corrupt")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
