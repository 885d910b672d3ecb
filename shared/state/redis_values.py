"""Any Redis key as a readable, typed JSON value, and back: the generic part of a project export.

Values keep their order where Redis gives them one (lists, sorted sets, streams); sets are sorted
and hashes keyed by sorted field so an export of the same data is the same text.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline

__all__ = ["KeyType", "StoredValue", "read_values", "stream_ids_increase", "write_value"]

KeyType = Literal["string", "hash", "list", "set", "zset", "stream"]
_BATCH = 500


class StoredValue(BaseModel):
    """One key: its type, its value in JSON terms, and the milliseconds it had left to live."""

    model_config = ConfigDict(extra="forbid")

    type: KeyType
    value: Any
    ttl_ms: int | None = Field(default=None, gt=0)


async def read_values(redis: Redis, names: Sequence[str]) -> dict[str, StoredValue]:
    """The keys among `names` that still exist, read in pipelined batches."""
    found: dict[str, StoredValue] = {}
    for start in range(0, len(names), _BATCH):
        batch = names[start : start + _BATCH]
        async with redis.pipeline(transaction=False) as pipe:
            for name in batch:
                pipe.type(name)
                pipe.pttl(name)
            meta = await pipe.execute()
        kinds = {n: (meta[2 * i], meta[2 * i + 1]) for i, n in enumerate(batch)}
        live = [n for n in batch if kinds[n][0] in _READERS]
        async with redis.pipeline(transaction=False) as pipe:
            for name in live:
                _READERS[kinds[name][0]](pipe, name)
            raws = await pipe.execute()
        for name, raw in zip(live, raws, strict=True):
            kind, ttl = kinds[name]
            found[name] = StoredValue(type=kind, value=_readable(kind, raw), ttl_ms=_ttl(ttl))
    return found


def write_value(pipe: Pipeline, name: str, stored: StoredValue) -> None:
    """Buffer the commands recreating `stored` at `name` (which must not exist)."""
    value = stored.value
    if stored.type == "string":
        pipe.set(name, value)
    elif stored.type == "hash" and value:
        pipe.hset(name, mapping=value)
    elif stored.type == "list" and value:
        pipe.rpush(name, *value)
    elif stored.type == "set" and value:
        pipe.sadd(name, *value)
    elif stored.type == "zset" and value:
        pipe.zadd(name, dict(value))
    elif stored.type == "stream":
        for entry_id, fields in value:
            pipe.xadd(name, fields, id=entry_id)
    if stored.ttl_ms is not None:
        pipe.pexpire(name, stored.ttl_ms)


def stream_ids_increase(entry_ids: Sequence[str]) -> bool:
    """True when stream entry ids are well formed and strictly increasing (XADD needs both)."""
    parsed: list[tuple[int, int]] = []
    for entry_id in entry_ids:
        ms, _, seq = entry_id.partition("-")
        if not (ms.isdigit() and seq.isdigit()):
            return False
        parsed.append((int(ms), int(seq)))
    return all(a < b for a, b in pairwise(parsed)) and (0, 0) not in parsed


def _ttl(pttl: int) -> int | None:
    return pttl if pttl > 0 else None


def _readable(kind: str, raw: Any) -> Any:
    if kind == "hash":
        return dict(sorted(raw.items()))
    if kind == "set":
        return sorted(raw)
    if kind == "zset":
        return [[member, score] for member, score in raw]
    if kind == "stream":
        return [[entry_id, fields] for entry_id, fields in raw]
    return raw


_READERS: dict[str, Any] = {
    "string": lambda p, n: p.get(n),
    "hash": lambda p, n: p.hgetall(n),
    "list": lambda p, n: p.lrange(n, 0, -1),
    "set": lambda p, n: p.smembers(n),
    "zset": lambda p, n: p.zrange(n, 0, -1, withscores=True),
    "stream": lambda p, n: p.xrange(n),
}
