"""One cluster-wide token bucket for Discord REST calls, in Redis.

Every pod takes a token before a bot-authorised call, so the sum over all pods stays under
Discord's global limit (50 requests/s per bot; we default to 30/s with a burst of 5, so no
one-second window holds more than 35). Time is Redis' own clock (TIME), so pods with skewed
clocks share one bucket. A 429 parks the whole bucket (a global limit) or one route bucket
until Discord's ``retry_after`` has passed; takers wait for it instead of retrying into it.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.state import keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["GLOBAL_SCOPE", "BucketPolicy", "RateLimitWait", "RestBucket", "route_scope"]

GLOBAL_SCOPE = "global"
_IDLE_TTL_MS = 60_000

_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# KEYS: bucket, global park, route park. ARGV: rate per second, burst. Returns ms to wait.
_TAKE = (
    _NOW_MS
    + """
local parked = math.max(tonumber(redis.call('GET', KEYS[2]) or '0'),
                        tonumber(redis.call('GET', KEYS[3]) or '0'))
if parked > now then return parked - now end
local per_ms = tonumber(ARGV[1]) / 1000
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * per_ms)
local wait = 0
if tokens < 1 then
  wait = math.max(1, math.ceil((1 - tokens) / per_ms))
else
  tokens = tokens - 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return wait
"""
)

# KEYS: park key. ARGV: ms. Extends, never shortens, the parking.
_PARK = (
    _NOW_MS
    + """
local ms = tonumber(ARGV[1])
local until_ms = now + ms
if until_ms > tonumber(redis.call('GET', KEYS[1]) or '0') then
  redis.call('SET', KEYS[1], tostring(until_ms), 'PX', ms)
end
return until_ms
"""
)


class RateLimitWait(RuntimeError):
    """The bucket is parked longer than the caller is willing to wait."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"Discord REST is rate limited for another {wait_s:.1f} s")
        self.wait_s = wait_s


@dataclass(frozen=True)
class BucketPolicy:
    rate_per_s: float = 30.0
    burst: int = 5
    max_wait_s: float = 30.0  # a longer parking raises RateLimitWait; the caller retries later

    def __post_init__(self) -> None:
        if self.rate_per_s <= 0 or self.burst < 1:
            raise ValueError("rate_per_s must be positive and burst at least 1")


def route_scope(route: str, major: str) -> str:
    """A route bucket's name: the route template and its major parameter (channel, guild)."""
    return hashlib.sha256(f"{route} {major}".encode()).hexdigest()[:16]


class RestBucket:
    def __init__(self, redis: Redis, policy: BucketPolicy | None = None) -> None:
        self._redis = redis
        self.policy = policy or BucketPolicy()

    async def acquire(self, scope: str) -> None:
        """Take one token for a call in route bucket ``scope``, waiting while none is free."""
        deadline = time.monotonic() + self.policy.max_wait_s
        while (wait_s := await self.take(scope)) > 0:
            if time.monotonic() + wait_s > deadline:
                raise RateLimitWait(wait_s)
            await asyncio.sleep(wait_s + random.uniform(0, 0.005))  # noqa: S311 - jitter

    async def take(self, scope: str) -> float:
        """0 when a token was taken, else the seconds to wait before trying again."""
        policy = self.policy
        args = [policy.rate_per_s, policy.burst, _IDLE_TTL_MS]
        key_names = [keys.DISCORD_REST_BUCKET, _park(GLOBAL_SCOPE), _park(scope)]
        wait_ms = await self._eval(_TAKE, key_names, args)
        return int(wait_ms) / 1000

    async def park(self, scope: str, seconds: float) -> None:
        """Nobody calls in ``scope`` (a route bucket, or GLOBAL_SCOPE) for ``seconds``."""
        ms = max(int(seconds * 1000), 1)
        await self._eval(_PARK, [_park(scope)], [ms])

    async def _eval(self, script: str, key_names: list[str], args: list[Any]) -> Any:
        return await self._redis.eval(script, len(key_names), *key_names, *args)  # type: ignore[misc]


def _park(scope: str) -> str:
    return keys.discord_rest_park(scope)
