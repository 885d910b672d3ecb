"""`awf backup` and `awf restore`: the whole state, to a folder and back (see shared.state.backup_run)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.markup import escape

from services.cli import output
from services.cli.redis_target import RedisUrlOption, fail, resolve_redis_url, with_redis
from services.cli.session import state_dir
from shared.platform.redaction import redacted_settings
from shared.platform.settings import format_settings_error, load_settings
from shared.state.backup import BackupError
from shared.state.backup_run import (
    BackupResult,
    RestoreResult,
    create_backup,
    decrypt_backup,
    restore_backup,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["backup", "decrypt_backup_folder", "effective_config", "encryption_key", "restore"]


def backup(
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir",
            help="Folder the timestamped backups go in (default: <state dir>/backups).",
            show_default=False,
        ),
    ] = None,
    retention_days: Annotated[
        int,
        typer.Option(
            "--retention-days", min=0, help="Delete backups older than this (0: keep all)."
        ),
    ] = 30,
    redis_url: RedisUrlOption = None,
) -> None:
    """Back up every key (logical dump, plus an RDB snapshot when the server is local), each
    project as JSON and the config (secrets redacted), encrypted when ENCRYPTION_KEY is set;
    then apply retention."""
    url = resolve_redis_url(redis_url)
    root = directory or state_dir() / "backups"
    config, key = effective_config(), encryption_key()

    async def work(redis: Redis) -> BackupResult:
        return await create_backup(
            redis,
            url=url,
            root=root,
            config=config,
            retention_days=retention_days,
            encryption_key=key,
        )

    _report_backup(with_redis(url, work), retention_days)


def restore(
    folder: Annotated[
        Path, typer.Argument(help="A backup folder written by `awf backup`.", show_default=False)
    ],
    redis_url: RedisUrlOption = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Restore into a Redis that holds keys of ours: overwrite the keys the backup "
            "holds, keep every other key (nothing is deleted).",
        ),
    ] = False,
) -> None:
    """Load a backup into an empty Redis (stop the stack first), then verify every key and
    project; an encrypted backup needs the ENCRYPTION_KEY it was made with."""
    url = resolve_redis_url(redis_url)
    key = encryption_key()

    async def work(redis: Redis) -> RestoreResult:
        return await restore_backup(redis, folder, force=force, encryption_key=key)

    result = with_redis(url, work)
    for warning in result.warnings:
        output.err_console.print(f"[yellow]! {escape(warning)}[/yellow]")
    expired = f", {result.stats.expired} expired since the backup" if result.stats.expired else ""
    output.success(
        f"Restored {result.stats.restored} keys from {folder}{expired}; "
        f"{len(result.manifest.projects)} projects checked against their exports"
    )


def decrypt_backup_folder(
    folder: Annotated[
        Path, typer.Argument(help="A backup folder encrypted by `awf backup`.", show_default=False)
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="A new folder for the plaintext copy.", show_default=False
        ),
    ],
) -> None:
    """Write a decrypted copy of an encrypted backup (with the ENCRYPTION_KEY it was made with),
    e.g. to load its dump.rdb into a server by hand; delete the copy once done."""
    try:
        manifest = decrypt_backup(folder, out, encryption_key())
    except BackupError as exc:
        raise fail(str(exc)) from None
    except FileExistsError:
        raise fail(f"{out} already exists; name a new folder") from None
    except OSError as exc:
        raise fail(f"Cannot use {exc.filename or 'a file'}: {exc.strerror or exc}") from None
    output.success(f"Decrypted {len(manifest.files)} files of {folder} into {out}")


def effective_config() -> dict[str, Any]:
    """The settings this process would run with, secrets redacted; or why they do not load."""
    try:
        return {"loaded": True, "settings": redacted_settings(load_settings())}
    except ValidationError as exc:
        return {"loaded": False, "errors": format_settings_error(exc).splitlines()}
    except (OSError, ValueError) as exc:  # its text may quote the config file: name the kind only
        return {"loaded": False, "errors": [f"the settings did not load ({type(exc).__name__})"]}


def encryption_key() -> str | None:
    """ENCRYPTION_KEY as the services read it; the variable itself when the settings do not
    load on this machine (another secret missing, say)."""
    try:
        key = load_settings().encryption_key
    except (ValidationError, OSError, ValueError):
        return os.environ.get("ENCRYPTION_KEY") or None
    return key.get_secret_value() if key else None


def _report_backup(result: BackupResult, retention_days: int) -> None:
    counts, rdb = result.manifest.counts, result.manifest.rdb
    snapshot = "with" if rdb.get("included") else f"without ({rdb.get('skipped_because')})"
    sealed = "encrypted with ENCRYPTION_KEY" if result.manifest.encryption else "not encrypted"
    output.success(
        f"Backup written to {result.folder}: {counts['keys']} keys, {counts['projects']} "
        f"projects, {snapshot} an RDB snapshot; {sealed}"
    )
    if result.deleted:
        names = ", ".join(p.name for p in result.deleted)
        output.out.print(
            f"Deleted {len(result.deleted)} backups older than {retention_days} days: {escape(names)}"
        )
