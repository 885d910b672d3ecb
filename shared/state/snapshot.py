"""The RDB snapshot of a backup: `BGSAVE`, then a copy of the file the server wrote.

Only possible when the server's files are on this machine (the embedded server `awf up` starts,
or a Redis on loopback); against a remote or managed Redis the logical dump stands alone.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from redis.exceptions import ResponseError

from shared.state.backup import BackupError

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RDB_FILE", "copy_rdb"]

RDB_FILE = "dump.rdb"
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_POLL_S = 0.05


async def copy_rdb(redis: Redis, url: str, dest: Path, *, timeout_s: float = 300.0) -> str | None:
    """Write a fresh snapshot to `dest`; None when done, else why it was skipped."""
    split = urlsplit(url)
    if split.scheme != "unix" and split.hostname not in _LOCAL_HOSTS:
        return "the server is not on this machine; the logical dump is the backup"
    try:
        directory = Path((await redis.config_get("dir"))["dir"])
        filename = (await redis.config_get("dbfilename"))["dbfilename"]
    except (ResponseError, KeyError) as exc:
        return f"the server does not tell where it saves (CONFIG GET: {exc})"
    if not _is_dir(directory):
        return f"the server's directory {directory} is not readable here"
    await _bgsave(redis, time.monotonic() + timeout_s)
    try:
        shutil.copyfile(directory / filename, dest)
    except OSError as exc:
        return f"cannot copy {directory / filename} ({exc.strerror})"
    return None


def _is_dir(path: Path) -> bool:
    return path.is_dir()


async def _bgsave(redis: Redis, deadline: float) -> None:
    """Start a background save (after one already running) and wait until it has finished."""
    while True:
        marker = await _save_marker(redis)
        try:
            await redis.bgsave(schedule=True)
            break
        except ResponseError as exc:
            if "in progress" not in str(exc):
                raise BackupError(f"BGSAVE refused: {exc}") from None
        await _wait(redis, deadline, lambda info: not info.get("rdb_bgsave_in_progress"))
    await _wait(redis, deadline, lambda info: _finished(info, marker))
    info = await redis.info("persistence")
    if info.get("rdb_last_bgsave_status") != "ok":
        raise BackupError("BGSAVE failed on the server (see its log); no snapshot was taken")


def _finished(info: dict[str, Any], marker: object) -> bool:
    return not info.get("rdb_bgsave_in_progress") and _marker_of(info) != marker


async def _save_marker(redis: Redis) -> object:
    return _marker_of(await redis.info("persistence"))


def _marker_of(info: dict[str, Any]) -> object:
    """What changes when a save completes: the save count (Redis 7+), else the last save time."""
    return info.get("rdb_saves", info.get("rdb_last_save_time"))


async def _wait(redis: Redis, deadline: float, done: Callable[[dict[str, Any]], bool]) -> None:
    while not done(await redis.info("persistence")):
        if time.monotonic() > deadline:
            raise BackupError("the server's BGSAVE did not finish in time; no snapshot was taken")
        await asyncio.sleep(_POLL_S)
