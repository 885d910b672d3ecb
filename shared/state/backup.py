"""The portable logical dump: every key of ours and of arq, as one JSON line per key.

A line is ``{"key", "type", "expire_at_ms", "dump"}``: the key's type, its absolute expiry on the
source server's clock (null: none) and its `DUMP` payload in base64. `DUMP`/`RESTORE` keep every
type exactly (streams with their ids and consumer groups) and work against any Redis, managed ones
included, as long as the target runs the same or a newer version than the source. Keys are
written sorted by name. The dump reads a live server key by key, so it is consistent per key,
not across keys; the RDB snapshot next to it is the point-in-time copy.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shared.state import keys

if TYPE_CHECKING:
    from pathlib import Path

    from redis.asyncio import Redis

__all__ = [
    "DUMP_FILE",
    "BackupError",
    "DumpRecord",
    "DumpStats",
    "dump_keys",
    "list_our_keys",
    "read_records",
    "server_ms",
]

DUMP_FILE = "keys.jsonl"
_BATCH = 500


class BackupError(Exception):
    """A backup, restore, export or import that cannot go on; the message says why."""


@dataclass(frozen=True)
class DumpRecord:
    key: str
    type: str
    expire_at_ms: int | None
    payload: bytes

    def line(self) -> str:
        dump = base64.b64encode(self.payload).decode("ascii")
        record = {"key": self.key, "type": self.type, "expire_at_ms": self.expire_at_ms}
        return json.dumps({**record, "dump": dump}, separators=(",", ":")) + "\n"

    @classmethod
    def parse(cls, line: str, number: int) -> DumpRecord:
        try:
            data = json.loads(line)
            expire_at = data["expire_at_ms"]
            record = cls(
                key=data["key"],
                type=data["type"],
                expire_at_ms=None if expire_at is None else int(expire_at),
                payload=base64.b64decode(data["dump"], validate=True),
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise BackupError(f"{DUMP_FILE} line {number} is not a dump record ({exc})") from None
        if not (isinstance(record.key, str) and isinstance(record.type, str)):
            raise BackupError(f"{DUMP_FILE} line {number} is not a dump record")
        return record


@dataclass
class DumpStats:
    keys: int = 0
    by_type: Counter[str] = field(default_factory=Counter)


async def list_our_keys(redis: Redis, limit: int | None = None) -> list[str]:
    """Our keys and arq's, sorted; with `limit`, stop once that many were found."""
    found: set[str] = set()
    for pattern in keys.BACKUP_PATTERNS:
        async for name in redis.scan_iter(match=pattern, count=1_000):
            found.add(name)
            if limit is not None and len(found) >= limit:
                return sorted(found)
    return sorted(found)


async def server_ms(redis: Redis) -> int:
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def dump_keys(redis: Redis, path: Path) -> DumpStats:
    """Write the dump of every key of ours to `path`; keys gone meanwhile are skipped."""
    names = await list_our_keys(redis)
    stats = DumpStats()
    with path.open("w", encoding="utf-8") as out:
        for start in range(0, len(names), _BATCH):
            for record in await _dump_batch(redis, names[start : start + _BATCH]):
                out.write(record.line())
                stats.keys += 1
                stats.by_type[record.type] += 1
    return stats


async def _dump_batch(redis: Redis, names: Sequence[str]) -> list[DumpRecord]:
    now_ms = await server_ms(redis)
    async with redis.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.type(name)
            pipe.pttl(name)
            pipe.dump(name)
        replies: list[Any] = await pipe.execute()
    records = []
    for i, name in enumerate(names):
        kind, pttl, payload = replies[3 * i : 3 * i + 3]
        if payload is None or pttl == -2:
            continue  # deleted or expired between SCAN and DUMP
        expire_at = now_ms + int(pttl) if pttl >= 0 else None
        records.append(DumpRecord(name, str(kind), expire_at, bytes(payload)))
    return records


def read_records(path: Path) -> Iterator[DumpRecord]:
    """The records of a dump file, in order; BackupError naming the first bad line."""
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if line.strip():
                yield DumpRecord.parse(line, number)


def probe_key() -> str:
    return keys.backup_probe(secrets.token_hex(8))
