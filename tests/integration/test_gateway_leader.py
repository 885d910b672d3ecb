"""The leader loop in-process on a real server, with a recording duty: who starts, who stops,
and in which order against the lease calls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import pytest
from prometheus_client import REGISTRY
from redis.exceptions import ConnectionError as RedisConnectionError

from services.gateway.duties import HeartbeatDuty, build_duty, identify_policy
from services.gateway.leader import DutyStopFailed, Leader, LeaderTiming
from services.gateway.term import Term
from shared.state import keys
from shared.state.lease import Grant, Lease

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from shared.platform.settings import Settings

pytestmark = pytest.mark.integration

FAST = LeaderTiming(ttl_s=0.6, renew_every_s=0.2, standby_poll_s=0.1, stop_timeout_s=0.5)
NAME = "test-gateway"


class RecordingDuty:
    def __init__(self, events: list[str], *, start_error: Exception | None = None) -> None:
        self.events = events
        self.start_error = start_error
        self.stop_hangs = False
        self.running = False
        self.on_stop: Callable[[], Awaitable[None]] | None = None

    async def start(self, term: Term) -> None:
        self.events.append(f"start:{term.grant.owner}")
        self.running = True
        if self.start_error is not None:
            raise self.start_error

    async def stop(self) -> None:
        self.events.append("stop")
        self.running = False
        if self.on_stop is not None:
            await self.on_stop()
        if self.stop_hangs:
            await asyncio.sleep(30)


class SpyLease(Lease):
    """Records renew/release outcomes next to the duty's calls; can make renew fail or hang."""

    def __init__(self, redis: Redis, events: list[str], ttl_ms: int = 600) -> None:
        super().__init__(redis, NAME, ttl_ms)
        self.events = events
        self.renew_fault: Callable[[], Exception] | None = None
        self.renew_hangs = False

    async def renew(self, grant: Grant) -> bool:
        if self.renew_fault is not None:
            self.events.append("renew:error")
            raise self.renew_fault()
        if self.renew_hangs:
            self.events.append("renew:hang")
            await asyncio.sleep(30)
        renewed = await super().renew(grant)
        self.events.append(f"renew:{renewed}")
        return renewed

    async def release(self, grant: Grant) -> bool:
        released = await super().release(grant)
        self.events.append(f"release:{released}")
        return released


@asynccontextmanager
async def running(leader: Leader) -> AsyncIterator[asyncio.Event]:
    shutdown = asyncio.Event()
    task = asyncio.create_task(leader.run(shutdown))
    try:
        yield shutdown
    finally:
        shutdown.set()
        await asyncio.wait_for(task, 3)


async def eventually(check: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def after(events: list[str], marker: str) -> list[str]:
    return events[events.index(marker) :]


async def test_one_leader_runs_the_duty_and_a_shutdown_hands_over_at_once(redis: Redis) -> None:
    slow_poll = LeaderTiming(ttl_s=6, renew_every_s=2, standby_poll_s=3, stop_timeout_s=1)
    events: list[str] = []
    duty_a, duty_b = RecordingDuty(events), RecordingDuty(events)
    lease_a = SpyLease(redis, events, 6_000)
    async with running(Leader(lease_a, "a", duty_a, slow_poll)) as shutdown_a:
        await eventually(lambda: duty_a.running)
        async with running(Leader(Lease(redis, NAME, 6_000), "b", duty_b, slow_poll)):
            await asyncio.sleep(0.3)
            assert not duty_b.running
            shutdown_a.set()
            handed_over = time.monotonic()
            await eventually(lambda: duty_b.running, timeout=1)
            # the standby polls every 3 s: only the release's wake-up explains this
            assert time.monotonic() - handed_over < 0.5
            calls = [event for event in events if event != "renew:True"]
            assert calls == ["start:a", "stop", "release:True", "start:b"]


async def test_lost_ownership_stops_the_duty_before_anything_else(redis: Redis) -> None:
    events: list[str] = []
    duty = RecordingDuty(events)
    async with running(Leader(SpyLease(redis, events), "a", duty, FAST)):
        await eventually(lambda: duty.running)
        await redis.set(keys.lease(NAME), "999:intruder", px=5_000)
        await eventually(lambda: not duty.running, timeout=FAST.renew_every_s + 0.2)
        assert after(events, "renew:False")[:3] == ["renew:False", "stop", "release:False"]
        await asyncio.sleep(0.3)
        assert not duty.running  # stands by while the intruder holds it
        await redis.delete(keys.lease(NAME))
        await eventually(lambda: duty.running)
        holder = await Lease(redis, NAME, 1).holder()
        assert holder is not None
        assert (holder.owner, holder.token) == ("a", 2)


async def test_a_renew_error_stops_the_duty_and_gives_the_lease_up(redis: Redis) -> None:
    events: list[str] = []
    lease, duty = SpyLease(redis, events), RecordingDuty(events)
    async with running(Leader(lease, "a", duty, FAST)):
        await eventually(lambda: duty.running)
        lease.renew_fault = lambda: RedisConnectionError("gone")
        await eventually(lambda: "release:True" in events)
        assert after(events, "renew:error")[:3] == ["renew:error", "stop", "release:True"]


async def test_a_hanging_renew_stops_the_duty_while_the_lease_still_holds(redis: Redis) -> None:
    events: list[str] = []
    lease, duty = SpyLease(redis, events), RecordingDuty(events)
    ttl_left_at_stop: list[int] = []

    async def measure_ttl() -> None:
        ttl_left_at_stop.append(await redis.pttl(keys.lease(NAME)))

    async with running(Leader(lease, "a", duty, FAST)):
        await eventually(lambda: "renew:True" in events)
        duty.on_stop = measure_ttl
        lease.renew_hangs = True
        await eventually(lambda: "release:True" in events, timeout=2 * FAST.renew_every_s + 0.2)
        assert after(events, "renew:hang")[:3] == ["renew:hang", "stop", "release:True"]
        assert ttl_left_at_stop[0] > 0  # stopped before the lease could lapse


async def test_a_failed_start_stops_releases_and_lets_another_pod_lead(redis: Redis) -> None:
    events: list[str] = []
    broken = RecordingDuty(events, start_error=RuntimeError("IDENTIFY refused"))
    healthy = RecordingDuty(events)
    async with running(Leader(SpyLease(redis, events), "a", broken, FAST)):
        await eventually(lambda: "release:True" in events)
        async with running(Leader(Lease(redis, NAME, 600), "b", healthy, FAST)):
            await eventually(lambda: healthy.running)
    assert events[:3] == ["start:a", "stop", "release:True"]


async def test_a_duty_that_will_not_stop_ends_the_run(redis: Redis) -> None:
    events: list[str] = []
    duty = RecordingDuty(events)
    duty.stop_hangs = True
    shutdown = asyncio.Event()
    task = asyncio.create_task(Leader(Lease(redis, NAME, 600), "a", duty, FAST).run(shutdown))
    await eventually(lambda: duty.running)
    shutdown.set()
    with pytest.raises(DutyStopFailed):
        await asyncio.wait_for(task, FAST.stop_timeout_s + 1)


async def test_a_standby_leaves_at_once_on_shutdown(redis: Redis) -> None:
    await redis.set(keys.lease(NAME), "1:someone", px=10_000)
    slow_poll = LeaderTiming(ttl_s=10, renew_every_s=3, standby_poll_s=2, stop_timeout_s=1)
    duty = RecordingDuty([])
    started = time.monotonic()
    async with running(Leader(Lease(redis, NAME, 10_000), "b", duty, slow_poll)):
        await asyncio.sleep(0.1)
    assert time.monotonic() - started < 1
    assert await redis.get(keys.lease(NAME)) == "1:someone"


async def test_the_heartbeat_writes_only_while_the_term_holds(redis: Redis) -> None:
    stream = "test:beacon"
    duty = HeartbeatDuty(redis, 0.05, stream)
    await duty.start(Term(Grant("a", 7), time.monotonic() + 0.22))
    await asyncio.sleep(0.5)
    await duty.stop()
    entries = await redis.xrange(stream)
    assert 3 <= len(entries) <= 5
    assert {tuple(sorted(fields.items())) for _, fields in entries} == {
        (("owner", "a"), ("token", "7"))
    }
    await duty.stop()  # idempotent


async def test_the_heartbeat_stops_writing_when_stopped(redis: Redis) -> None:
    stream = "test:beacon"
    duty = HeartbeatDuty(redis, 0.05, stream)
    await duty.start(Term(Grant("a", 1), time.monotonic() + 60))
    await asyncio.sleep(0.12)
    await duty.stop()
    written = await redis.xlen(stream)
    await asyncio.sleep(0.15)
    assert await redis.xlen(stream) == written > 0


def test_the_duty_and_identify_policy_come_from_settings(settings: Settings, redis: Redis) -> None:
    assert isinstance(build_duty(settings, redis), HeartbeatDuty)
    policy = identify_policy(settings.gateway)
    assert policy.daily_budget == settings.gateway.identify_budget_per_day
    assert policy.flap_window_s > policy.backoff_max_s


async def test_the_leader_gauge_is_one_only_during_the_term(redis: Redis) -> None:
    def gauge() -> float | None:
        return REGISTRY.get_sample_value("gateway_leader")

    timing = LeaderTiming(ttl_s=6, renew_every_s=2, standby_poll_s=3, stop_timeout_s=1)
    duty = RecordingDuty([])
    async with running(Leader(Lease(redis, NAME, 6_000), "a", duty, timing)) as shutdown:
        await eventually(lambda: duty.running)
        assert gauge() == 1
        shutdown.set()
        await eventually(lambda: gauge() == 0)
