"""A named lease in Redis: at most one live holder, an expiry renewed by the holder, and a fencing
token that grows with every acquisition.

The holder key's value is ``"<token>:<owner>"``, so renew and release compare one string: a lease
re-acquired by the same owner under a newer token is not "ours" to an older grant. Expiry is kept
by Redis (PX), so pods with skewed clocks agree on it. Release wakes one blocked standby through
a hand-off list (BLPOP) so a graceful hand-over does not wait for a poll.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.state import keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["Grant", "Lease"]

_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local token = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], token .. ':' .. ARGV[1], 'NX', 'PX', ARGV[2])
return token
"""

_RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('RPUSH', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""


@dataclass(frozen=True)
class Grant:
    """One acquisition of a lease: who holds it, under which fencing token."""

    owner: str
    token: int

    @property
    def value(self) -> str:
        return f"{self.token}:{self.owner}"

    @classmethod
    def parse(cls, value: str) -> Grant:
        token, _, owner = value.partition(":")
        return cls(owner=owner, token=int(token))


class Lease:
    """The lease ``name``; every call is one atomic round trip."""

    def __init__(self, redis: Redis, name: str, ttl_ms: int) -> None:
        if ttl_ms <= 0:
            raise ValueError(f"ttl_ms must be positive, got {ttl_ms}")
        self.name = name
        self.ttl_ms = ttl_ms
        self._redis = redis
        self._holder = keys.lease(name)
        self._fence = keys.lease_fence(name)
        self._handoff = keys.lease_handoff(name)

    async def acquire(self, owner: str) -> Grant | None:
        """Take the lease if nobody holds it, under a new fencing token; None when held."""
        token = await self._eval(_ACQUIRE, [self._holder, self._fence], [owner, self.ttl_ms])
        return Grant(owner, int(token)) if token else None

    async def renew(self, grant: Grant) -> bool:
        """Push the expiry ``ttl_ms`` ahead; False when the grant is no longer the holder."""
        renewed = await self._eval(_RENEW, [self._holder], [grant.value, self.ttl_ms])
        return bool(renewed)

    async def release(self, grant: Grant) -> bool:
        """Give the lease up and wake one standby; False (and nothing done) when not ours."""
        args = [grant.value, self.ttl_ms]
        released = await self._eval(_RELEASE, [self._holder, self._handoff], args)
        return bool(released)

    async def holder(self) -> Grant | None:
        value: str | None = await self._redis.get(self._holder)
        return Grant.parse(value) if value else None

    async def is_current(self, token: int) -> bool:
        """True only while the lease is live under ``token``: a deposed holder's token is not."""
        current = await self.holder()
        return current is not None and current.token == token

    async def wait_released(self, timeout_s: float) -> bool:
        """Block up to ``timeout_s`` (keep it under the client's socket timeout) for a release."""
        # Redis takes fractional seconds here; redis-py's stub says int
        blpop = self._redis.blpop([self._handoff], timeout=timeout_s)  # type: ignore[arg-type]
        popped = await blpop  # type: ignore[misc]
        return popped is not None

    async def _eval(self, script: str, key_names: list[str], args: list[Any]) -> Any:
        return await self._redis.eval(script, len(key_names), *key_names, *args)  # type: ignore[misc]
