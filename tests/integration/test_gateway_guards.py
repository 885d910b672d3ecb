"""IDENTIFY budget and flap back-off, and event dedupe, on a real server."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest

from shared.state import keys
from shared.state.gateway_guards import (
    IdentifyBudgetExhausted,
    IdentifyGuard,
    IdentifyPolicy,
    claim_event,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

pytestmark = pytest.mark.integration

POLICY = IdentifyPolicy(daily_budget=3, backoff_base_s=5, backoff_max_s=60, flap_window_s=120)


def guard_on(
    redis: Redis, policy: IdentifyPolicy = POLICY, day: str = "2030-01-01"
) -> IdentifyGuard:
    return IdentifyGuard(redis, policy, today=lambda: day)


async def test_identifies_are_counted_per_day_with_growing_delays(redis: Redis) -> None:
    guard = guard_on(redis)
    tickets = [await guard.reserve() for _ in range(3)]
    assert [t.used_today for t in tickets] == [1, 2, 3]
    assert [t.streak for t in tickets] == [1, 2, 3]
    assert [t.delay_s for t in tickets] == [0.0, 0.0, 5.0]  # one takeover is never delayed
    assert await guard.used_today() == 3


async def test_the_budget_refuses_without_counting_further(redis: Redis) -> None:
    guard = guard_on(redis)
    for _ in range(3):
        await guard.reserve()
    for _ in range(2):
        with pytest.raises(IdentifyBudgetExhausted, match="budget 3"):
            await guard.reserve()
    assert await guard.used_today() == 3


async def test_a_new_utc_day_has_a_fresh_budget(redis: Redis) -> None:
    for _ in range(3):
        await guard_on(redis, day="2030-01-01").reserve()
    ticket = await guard_on(redis, day="2030-01-02").reserve()
    assert ticket.used_today == 1


async def test_the_day_counter_expires(redis: Redis) -> None:
    await guard_on(redis).reserve()
    ttl = await redis.ttl(keys.gateway_identifies("2030-01-01"))
    assert 24 * 3600 < ttl <= 2 * 24 * 3600


async def test_a_quiet_window_resets_the_back_off(redis: Redis) -> None:
    policy = IdentifyPolicy(daily_budget=10, backoff_base_s=5, backoff_max_s=6, flap_window_s=7)
    guard = guard_on(redis, policy)
    await guard.reserve()
    assert (await guard.reserve()).streak == 2
    await redis.pexpire(keys.GATEWAY_IDENTIFY_STREAK, 50)  # as if 7 s passed
    await asyncio.sleep(0.1)
    ticket = await guard.reserve()
    assert (ticket.streak, ticket.delay_s, ticket.used_today) == (1, 0.0, 3)


async def test_wait_turn_sleeps_the_back_off(redis: Redis) -> None:
    policy = IdentifyPolicy(daily_budget=10, backoff_base_s=0.2, backoff_max_s=1, flap_window_s=5)
    guard = guard_on(redis, policy)
    await guard.wait_turn()
    await guard.wait_turn()
    started = time.monotonic()
    ticket = await guard.wait_turn()
    assert ticket.delay_s == 0.2
    assert time.monotonic() - started >= 0.2


async def test_concurrent_reservations_never_exceed_the_budget(redis: Redis) -> None:
    guard = guard_on(redis)
    results = await asyncio.gather(*(guard.reserve() for _ in range(20)), return_exceptions=True)
    granted = [r for r in results if not isinstance(r, BaseException)]
    assert sorted(t.used_today for t in granted) == [1, 2, 3]
    assert all(isinstance(r, IdentifyBudgetExhausted) for r in results if r not in granted)


async def test_an_event_is_claimed_once_among_overlapping_leaders(redis: Redis) -> None:
    claims = await asyncio.gather(*(claim_event(redis, "123", f"pod-{n}", 60) for n in range(10)))
    assert claims.count(True) == 1
    assert await claim_event(redis, "124", "pod-0", 60)


async def test_an_event_claim_records_the_claimant_and_expires(redis: Redis) -> None:
    assert await claim_event(redis, "123", "pod-7", 60)
    assert await redis.get(keys.gateway_event("123")) == "pod-7"
    assert 0 < await redis.ttl(keys.gateway_event("123")) <= 60
