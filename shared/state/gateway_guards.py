"""Guards for the Discord gateway that hold across pods and across leader changes.

IDENTIFY guard: Discord allows 1,000 IDENTIFYs a day per bot and resets the token when it is
exceeded, so every IDENTIFY first reserves one from a cluster-wide budget per UTC day, far below
that limit. A leader that flaps (a third IDENTIFY with no quiet gap of ``flap_window_s`` between them)
waits exponentially longer before each one instead of burning the budget; one failover in a
quiet window is never delayed.

Event dedupe: while a deposed leader's session lingers next to the new one, both receive every
event; the first to claim the event id handles it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from shared.state import keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "IdentifyBudgetExhausted",
    "IdentifyGuard",
    "IdentifyPolicy",
    "IdentifyTicket",
    "claim_event",
    "identify_delay",
]

_DAY_COUNTER_TTL_S = 2 * 24 * 3600  # yesterday's count stays readable for operators

_RESERVE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return {used, 0} end
used = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
local streak = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {used, streak}
"""


class IdentifyBudgetExhausted(RuntimeError):
    """Today's IDENTIFY budget is spent; the gateway stays down until the next UTC day."""


@dataclass(frozen=True)
class IdentifyPolicy:
    daily_budget: int
    backoff_base_s: float
    backoff_max_s: float
    flap_window_s: float


@dataclass(frozen=True)
class IdentifyTicket:
    """One reserved IDENTIFY: the day's count including it, the streak, the wait before it."""

    used_today: int
    streak: int
    delay_s: float


def identify_delay(streak: int, policy: IdentifyPolicy) -> float:
    """No wait for the first IDENTIFY after a quiet window, nor for one takeover after it (a
    crashed leader is replaced within the lease TTL); then base, 2 x base, 4 x base ... capped
    at the max, so only a flapping leader waits."""
    if streak <= 2:
        return 0.0
    return float(min(policy.backoff_max_s, policy.backoff_base_s * 2 ** (streak - 3)))


def _utc_day() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


class IdentifyGuard:
    def __init__(
        self, redis: Redis, policy: IdentifyPolicy, *, today: Callable[[], str] = _utc_day
    ) -> None:
        self._redis = redis
        self._policy = policy
        self._today = today

    async def reserve(self) -> IdentifyTicket:
        """Count one IDENTIFY against today's budget, or raise when the budget is spent."""
        key_names = [keys.gateway_identifies(self._today()), keys.GATEWAY_IDENTIFY_STREAK]
        window_ms = int(self._policy.flap_window_s * 1000)
        args = [str(self._policy.daily_budget), str(_DAY_COUNTER_TTL_S), str(window_ms)]
        used, streak = await self._redis.eval(_RESERVE, 2, *key_names, *args)  # type: ignore[misc]
        if not streak:
            raise IdentifyBudgetExhausted(
                f"{used} IDENTIFYs sent today (budget {self._policy.daily_budget}); "
                "the gateway waits for the next UTC day"
            )
        return IdentifyTicket(int(used), int(streak), identify_delay(int(streak), self._policy))

    async def wait_turn(self) -> IdentifyTicket:
        """Reserve an IDENTIFY and sleep its back-off; call right before connecting."""
        ticket = await self.reserve()
        await asyncio.sleep(ticket.delay_s)
        return ticket

    async def used_today(self) -> int:
        used: str | None = await self._redis.get(keys.gateway_identifies(self._today()))
        return int(used or 0)


async def claim_event(redis: Redis, event_id: str, claimant: str, ttl_s: int) -> bool:
    """True for the first claimant of ``event_id`` within ``ttl_s``; everyone else gets False."""
    claimed = await redis.set(keys.gateway_event(event_id), claimant, nx=True, ex=ttl_s)
    return bool(claimed)
