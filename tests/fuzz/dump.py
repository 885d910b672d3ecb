"""Every key of one project (and the global project keys) with its type, value and whether it
has a TTL, read in three pipelined round trips: a state machine compares dumps at every step."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.state import keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["KeyDump", "dump_project"]

KeyDump = dict[str, tuple[str, Any]]


async def dump_project(redis: Redis, project_id: str) -> KeyDump:
    found = [k async for k in redis.scan_iter(match=f"{keys.project_prefix(project_id)}:*")]
    names = sorted({*found, keys.PROJECTS, keys.ACTIVE_PROJECTS})
    async with redis.pipeline(transaction=False) as pipe:
        for name in names:
            pipe.type(name)
        kinds: list[str] = await pipe.execute()
        for name, kind in zip(names, kinds, strict=True):
            _read(pipe, kind, name)
            pipe.pttl(name)
        replies = await pipe.execute()
    dump: KeyDump = {}
    for i, (name, kind) in enumerate(zip(names, kinds, strict=True)):
        value, ttl = replies[2 * i], replies[2 * i + 1]
        dump[name] = (kind, (sorted(value) if isinstance(value, set) else value, ttl >= 0))
    return dump


def _read(pipe: Any, kind: str, name: str) -> None:
    readers = {
        "string": lambda: pipe.get(name),
        "zset": lambda: pipe.zrange(name, 0, -1, withscores=True),
        "set": lambda: pipe.smembers(name),
        "hash": lambda: pipe.hgetall(name),
        "list": lambda: pipe.lrange(name, 0, -1),
        "stream": lambda: pipe.xrange(name),
    }
    readers.get(kind, lambda: pipe.exists(name))()
