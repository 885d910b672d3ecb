"""Load a logical dump (`shared.state.backup`) into a server, then check it arrived.

Keys are restored with their absolute expiry (`RESTORE ... ABSTTL`), so a claim keeps the deadline
it had and a lease already past its expiry is not brought back. Without `replace` a key that
exists is never overwritten (`BUSYKEY` stops the restore); with it, restored keys overwrite
same-named ones and no other key is touched or deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from redis.exceptions import ResponseError

from shared.state.backup import BackupError, DumpRecord, probe_key, read_records, server_ms

if TYPE_CHECKING:
    from pathlib import Path

    from redis.asyncio import Redis

__all__ = ["RestoreStats", "check_compatible", "restore_records", "verify_records"]

_BATCH = 500
_NEWER_SOURCE = (
    "the server refused the dump ({error}); the backup comes from a newer or different server "
    "version: restore into the same or a newer version, or import each project from the "
    "backup's projects/ folder with `awf import`"
)


@dataclass(frozen=True)
class RestoreStats:
    restored: int
    expired: int


async def check_compatible(redis: Redis, path: Path) -> None:
    """RESTORE the first record under a scratch name and delete it: refuse before writing."""
    first = next(read_records(path), None)
    if first is None:
        return
    scratch = probe_key()
    try:
        await redis.restore(scratch, 0, first.payload)
        kind = await redis.type(scratch)
    except ResponseError as exc:
        raise BackupError(_NEWER_SOURCE.format(error=exc)) from None
    finally:
        await redis.delete(scratch)
    if kind != first.type:
        raise BackupError(f"the dump of {first.key} holds a {kind}, not a {first.type}: corrupt")


async def restore_records(redis: Redis, path: Path, *, replace: bool) -> RestoreStats:
    restored = expired = 0
    for batch in _batches(read_records(path)):
        now_ms = await server_ms(redis)
        live = [r for r in batch if r.expire_at_ms is None or r.expire_at_ms > now_ms]
        expired += len(batch) - len(live)
        await _restore_batch(redis, live, replace=replace)
        restored += len(live)
    return RestoreStats(restored, expired)


async def verify_records(redis: Redis, path: Path) -> list[str]:
    """Problems found: a key without expiry missing or of another type than in the dump."""
    problems: list[str] = []
    for batch in _batches(read_records(path)):
        async with redis.pipeline(transaction=False) as pipe:
            for record in batch:
                pipe.type(record.key)
            kinds: list[str] = await pipe.execute()
        for record, kind in zip(batch, kinds, strict=True):
            if kind == "none" and record.expire_at_ms is not None:
                continue  # expired since: expected for short-lived keys
            if kind != record.type:
                problems.append(f"{record.key}: expected a {record.type}, found {kind}")
    return problems


async def _restore_batch(redis: Redis, records: list[DumpRecord], *, replace: bool) -> None:
    async with redis.pipeline(transaction=False) as pipe:
        for r in records:
            ttl = r.expire_at_ms or 0
            pipe.restore(r.key, ttl, r.payload, replace=replace, absttl=r.expire_at_ms is not None)
        replies: list[Any] = await pipe.execute(raise_on_error=False)
    for record, reply in zip(records, replies, strict=True):
        if isinstance(reply, Exception):
            raise BackupError(_explain(record, reply))


def _explain(record: DumpRecord, error: Exception) -> str:
    if "BUSYKEY" in str(error):
        return (
            f"{record.key} already exists on the target and restore overwrites only with "
            "--force; the keys before it in the dump were restored"
        )
    return f"restoring {record.key} failed: {error}; the keys before it in the dump were restored"


def _batches(records: Iterable[DumpRecord]) -> Iterator[list[DumpRecord]]:
    iterator = iter(records)
    while batch := list(islice(iterator, _BATCH)):
        yield batch
