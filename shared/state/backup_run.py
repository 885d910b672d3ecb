"""A whole backup and a whole restore, from one Redis client and one folder.

A backup folder holds ``keys.jsonl`` (the logical dump), ``dump.rdb`` (when the server's files are
local), ``projects/<id>.json`` (each project's export), ``config.json`` (settings, secrets
redacted) and ``manifest.json`` (counts, source, and a SHA-256 per file). With an encryption key
every file but the manifest is encrypted (``shared.state.backup_crypto``; the checksums are of the
encrypted files), and a restore decrypts all of it before it writes anything to Redis.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.platform.redaction import mask_url
from shared.state import keys
from shared.state.backup import DUMP_FILE, BackupError, dump_keys, list_our_keys, read_records
from shared.state.backup_crypto import SCHEME, open_folder, seal_folder
from shared.state.backup_folder import (
    MANIFEST,
    Manifest,
    apply_retention,
    file_entries,
    load_manifest,
    staging_paths,
    write_manifest,
)
from shared.state.project_export import ProjectExport, comparable, export_project, export_text
from shared.state.restore import RestoreStats, check_compatible, restore_records, verify_records
from shared.state.snapshot import RDB_FILE, copy_rdb

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "CONFIG_FILE",
    "BackupResult",
    "RestoreResult",
    "create_backup",
    "decrypt_backup",
    "restore_backup",
]

CONFIG_FILE = "config.json"
PROJECTS_DIR = "projects"


@dataclass(frozen=True)
class BackupResult:
    folder: Path
    manifest: Manifest
    deleted: list[Path]


@dataclass(frozen=True)
class RestoreResult:
    manifest: Manifest
    stats: RestoreStats
    warnings: list[str]


async def create_backup(
    redis: Redis,
    *,
    url: str,
    root: Path,
    config: dict[str, Any],
    retention_days: int,
    now: datetime | None = None,
    encryption_key: str | None = None,
) -> BackupResult:
    """Write a complete backup folder under `root` (encrypted with `encryption_key` when given),
    then delete the ones past retention."""
    taken_at = now or datetime.now(UTC)
    staging, final = _make_staging(root, taken_at)
    try:
        manifest = await _fill(redis, url, staging, config, taken_at)
        if encryption_key:
            seal_folder(staging, encryption_key, keep=frozenset({MANIFEST}))
            manifest = manifest.model_copy(
                update={"encryption": SCHEME, "files": file_entries(staging)}
            )
            write_manifest(staging, manifest)
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BackupResult(final, manifest, apply_retention(root, retention_days, taken_at))


def _make_staging(root: Path, now: datetime) -> tuple[Path, Path]:
    root.mkdir(parents=True, exist_ok=True, mode=0o700)  # backups hold all data: owner only
    staging, final = staging_paths(root, now)
    staging.mkdir(mode=0o700)
    return staging, final


async def restore_backup(
    redis: Redis, folder: Path, *, force: bool, encryption_key: str | None = None
) -> RestoreResult:
    """Check the folder whole (and decrypt it, when encrypted, to a private temporary folder),
    refuse a target holding our keys (unless `force`), load, verify."""
    manifest = load_manifest(folder)
    if manifest.encryption is None:
        return await _restore(redis, folder, manifest, force=force)
    with tempfile.TemporaryDirectory(prefix="awf-restore-") as plain:
        skip = frozenset({MANIFEST, RDB_FILE})  # the restore loads the logical dump
        open_folder(folder, Path(plain), encryption_key, skip=skip)
        return await _restore(redis, Path(plain), manifest, force=force)


def decrypt_backup(folder: Path, out: Path, encryption_key: str | None) -> Manifest:
    """Write a plaintext copy of an encrypted backup to the new folder `out` (owner only), with
    a manifest of its own: a plain backup `awf restore` takes, its dump.rdb usable by hand."""
    manifest = load_manifest(folder)
    if manifest.encryption is None:
        raise BackupError(f"{folder} is not encrypted: use it as it is")
    out.mkdir(parents=True, mode=0o700)  # FileExistsError: never into an existing folder
    try:
        open_folder(folder, out, encryption_key, skip=frozenset({MANIFEST}))
        plain = manifest.model_copy(update={"encryption": None, "files": file_entries(out)})
        write_manifest(out, plain)
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return plain


async def _restore(redis: Redis, folder: Path, manifest: Manifest, *, force: bool) -> RestoreResult:
    dump = folder / DUMP_FILE
    if DUMP_FILE not in manifest.files:
        raise BackupError(f"{folder} has no {DUMP_FILE} listed in its manifest")
    records = sum(1 for _ in read_records(dump))
    if records != manifest.counts.get("keys"):
        raise BackupError(
            f"{DUMP_FILE} holds {records} keys but the manifest records another count"
        )
    if not force and (present := await list_our_keys(redis, limit=3)):
        raise BackupError(
            f"the target already holds keys of ours ({', '.join(present)}, ...); nothing was "
            "restored. Restore into an empty Redis, or pass --force to overwrite the keys the "
            "backup holds (other keys are kept, never deleted)"
        )
    await check_compatible(redis, dump)
    stats = await restore_records(redis, dump, replace=force)
    if problems := await verify_records(redis, dump):
        raise BackupError(f"restored, but {len(problems)} keys differ: {'; '.join(problems[:5])}")
    differences = await _compare_projects(redis, folder, manifest)
    if differences and not force:
        raise BackupError(
            f"restored, but projects differ from the backup: {'; '.join(differences)}"
        )
    return RestoreResult(manifest, stats, differences)


async def _fill(
    redis: Redis, url: str, folder: Path, config: dict[str, Any], now: datetime
) -> Manifest:
    stats = await dump_keys(redis, folder / DUMP_FILE)
    rdb_skipped = await copy_rdb(redis, url, folder / RDB_FILE)
    exports = await _export_projects(redis, folder / PROJECTS_DIR)
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2, default=str) + "\n")
    manifest = Manifest(
        created_at=now,
        source=await _source(redis, url),
        counts={
            "keys": stats.keys,
            "keys_by_type": dict(sorted(stats.by_type.items())),
            "projects": len(exports),
            "timeline_events": sum(len(e.timeline) for e in exports),
        },
        rdb={"included": rdb_skipped is None, "skipped_because": rdb_skipped},
        projects=[e.project_id for e in exports],
        files=file_entries(folder),
    )
    write_manifest(folder, manifest)
    return manifest


async def _export_projects(redis: Redis, folder: Path) -> list[ProjectExport]:
    _mkdir(folder)
    exports = []
    for project_id in sorted(await redis.zrange(keys.PROJECTS, 0, -1)):
        export = await export_project(redis, project_id)
        if export is not None:
            (folder / f"{project_id}.json").write_text(export_text(export), encoding="utf-8")
            exports.append(export)
    return exports


def _mkdir(folder: Path) -> None:
    folder.mkdir()


async def _source(redis: Redis, url: str) -> dict[str, Any]:
    server = await redis.info("server")
    version = server.get("valkey_version") or server.get("redis_version")
    return {
        "redis_url": mask_url(url),
        "server": server.get("server_name", "redis"),
        "version": version,
    }


async def _compare_projects(redis: Redis, folder: Path, manifest: Manifest) -> list[str]:
    differences = []
    for project_id in manifest.projects:
        path = folder / PROJECTS_DIR / f"{project_id}.json"
        saved = ProjectExport.model_validate_json(path.read_bytes())
        now = await export_project(redis, project_id)
        if now is None or comparable(now) != comparable(saved):
            differences.append(f"project {project_id} differs from {path.name}")
    return differences
