"""Cluster-wide semaphores with leases: a running agent phase holds a slot in its project's set
and in the global set, each with an expiry renewed by the job's heartbeat. A dead worker's slot
expires on its own, which is how its phase is noticed and retaken.

Time is Redis' own clock (TIME), so pods with skewed clocks agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["acquire", "cycle_holder", "holders", "release", "renew"]


def cycle_holder(cycle_id: str, run: int) -> str:
    """One slot member per job run, so a retaken phase never shares its lease with the old job."""
    return f"{cycle_id}#{run}"


_NOW_MS = "local t = redis.call('TIME'); local now = t[1] * 1000 + math.floor(t[2] / 1000)\n"

_ACQUIRE = (
    _NOW_MS
    + """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local expiry = now + tonumber(ARGV[2])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZADD', KEYS[1], expiry, ARGV[1]) return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], expiry, ARGV[1])
return 1
"""
)

_RENEW = (
    _NOW_MS
    + """
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if (not score) or tonumber(score) < now then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
"""
)

_HOLDERS = (
    _NOW_MS
    + """
return redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')
"""
)


async def acquire(redis: Redis, key: str, member: str, ttl_ms: int, limit: int) -> bool:
    """Take (or keep) a slot for `member`; False when `limit` live holders exist."""
    got = await redis.eval(_ACQUIRE, 1, key, member, str(ttl_ms), str(limit))  # type: ignore[misc]
    return bool(got)


async def renew(redis: Redis, key: str, member: str, ttl_ms: int) -> bool:
    """Extend a live slot; False when it already expired (the holder lost it)."""
    kept = await redis.eval(_RENEW, 1, key, member, str(ttl_ms))  # type: ignore[misc]
    return bool(kept)


async def release(redis: Redis, key: str, member: str) -> None:
    await redis.zrem(key, member)


async def holders(redis: Redis, key: str) -> list[str]:
    """Members whose lease has not expired."""
    live: list[str] = await redis.eval(_HOLDERS, 1, key)  # type: ignore[misc]
    return live
