"""Failover with the real Discord duty: three `python -m services.gateway` pods run hikari
against the fake Discord (in this test's event loop, so its records share our clock) while a
user keeps sending slash commands through the fake's gateway.

SIGKILL the leader: a standby connects and answers within 10 s. SIGTERM the next one: it closes
its session, answers what it had taken, releases the lease, and a standby IDENTIFYs within 1 s.
Interactions Discord sends while no session is connected are lost (as on Discord: hikari's
session cannot be resumed by another pod); every other one is answered exactly once. Each term
costs one IDENTIFY, seen alike by the fake and by the cluster's per-day counter.
"""

from __future__ import annotations

import asyncio
import json
import math
import signal
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from shared.fakes.discord import FakeDiscord, InteractionRecord, routes
from shared.state import keys
from shared.state.lease import Lease
from tests.e2e.gateway_pods import Pod, pod_of, start_pod, stop_all, wait_for_log
from tests.integration.discord_fixtures import FAST_IDENTIFY, discord_path

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from redis.asyncio import Redis

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(240)]

TTL_S = 6.0
CRASH_BOUND_S = 10.0  # requirement: SIGKILL -> a new leader connected and answering
GRACEFUL_BOUND_S = 1.0  # requirement: SIGTERM -> a standby takes over (its IDENTIFY)
STEP_S = 30.0  # generous per-step waits for a busy 2-core box; the bounds above are asserted
STARTUP_S = 90.0  # three pods importing hikari at once, on a loaded box
INJECT_EVERY_S = 0.1
MAX_INTERACTIONS = 500
COMMAND = discord_path("project list")


class Injector:
    """A user sending one slash command every INJECT_EVERY_S (at most MAX_INTERACTIONS)."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.records: list[InteractionRecord] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while len(self.records) < MAX_INTERACTIONS and not self._stop.is_set():
            await self.burst(1)
            await asyncio.sleep(INJECT_EVERY_S)

    async def burst(self, count: int) -> None:
        for _ in range(count):
            self.records.append(await self.fake.inject_slash(COMMAND))

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    def answered(self) -> int:
        return sum(1 for r in self.records if r.responses)

    def unanswered(self) -> set[str]:
        return {r.id for r in self.records if not r.responses}

    def sent_between(self, start: float, end: float) -> set[str]:
        return {r.id for r in self.records if start <= r.created_at <= end}

    def since(self, start: float) -> list[InteractionRecord]:
        return [r for r in self.records if r.created_at >= start]


def write_config(path: Path, fake: FakeDiscord) -> Path:
    """JSON is YAML: the fake's REST, its "admin" role mapped to ours, the Discord duty. The
    IDENTIFY flap back-off is shortened as in the integration tests (FAST_IDENTIFY): with the
    defaults, an IDENTIFY within 15 min of the previous one waits 5 s."""
    config = {
        "discord": {
            "rest_url": fake.rest_url,
            "roles": {"*": {"admin": "admin"}},
            "max_commands_per_minute": 10_000,
        },
        "gateway": {"duty": "discord", "lease_ttl_s": TTL_S, **FAST_IDENTIFY},
    }
    path.write_text(json.dumps(config))
    return path


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(heartbeat_interval_ms=2_000) as discord:
        yield discord


@pytest.fixture
async def pods(
    redis: Redis, redis_url: str, tmp_path: Path, fake: FakeDiscord
) -> AsyncIterator[list[Pod]]:
    config = write_config(tmp_path / "config.yml", fake)
    token = {"DISCORD_BOT_TOKEN": fake.token}
    started = [start_pod(redis_url, config, tmp_path / f"gateway-{n}.log", token) for n in range(3)]
    try:
        for pod in started:
            await wait_for_log(pod, '"standing_by"', '"lease_acquired"', timeout=STARTUP_S)
        yield started
    finally:
        stop_all(started)


async def leader_pod(redis: Redis, pods: list[Pod]) -> Pod:
    holder = await Lease(redis, keys.GATEWAY_LEASE, int(TTL_S * 1000)).holder()
    assert holder is not None, "nobody holds the gateway lease"
    return pod_of(pods, holder.owner)


async def first_answer_after(injector: Injector, start: float) -> float:
    """When the first interaction sent at or after ``start`` got its answer (our clock)."""
    await injector.fake.state.changes.wait_for(
        lambda: any(r.responses for r in injector.since(start)), STEP_S
    )
    return time.monotonic()


async def answered(injector: Injector, more: int) -> None:
    """Until ``more`` further interactions were answered (the injector keeps sending)."""
    goal = injector.answered() + more
    await injector.fake.state.changes.wait_for(lambda: injector.answered() >= goal, STEP_S)


async def all_answered_since(injector: Injector, start: float) -> None:
    await injector.fake.state.changes.wait_for(
        lambda: all(r.responses for r in injector.since(start)) or None, STEP_S
    )


async def claimed(redis: Redis, ids: set[str]) -> set[str]:
    """The interactions a leader took (its handler claimed the id before answering)."""
    ordered = sorted(ids)
    found = await redis.mget([keys.discord_interaction(i) for i in ordered]) if ordered else []
    return {i for i, value in zip(ordered, found, strict=True) if value is not None}


async def identifies_counted(redis: Redis) -> int:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    return int(await redis.get(keys.gateway_identifies(day)) or 0)


async def terms(redis: Redis) -> int:
    """Leadership terms so far: every grant of the lease drew the next fencing token."""
    return int(await redis.get(keys.lease_fence(keys.GATEWAY_LEASE)) or 0)


def assert_answered_at_most_once(fake: FakeDiscord, injector: Injector) -> None:
    callbacks = fake.stats.calls(routes.INTERACTION_CALLBACK)
    refused = [(c.status, c.body) for c in callbacks if c.status >= 300]
    assert not refused, f"callbacks Discord refused (a second answer, or too late): {refused}"
    assert all(len(r.responses) <= 1 for r in injector.records)
    assert len(callbacks) == sum(len(r.responses) for r in injector.records)


@dataclass
class Failovers:
    """What happened when, on the fake's (= this test's) clock."""

    killed_at: float = 0.0
    in_flight_at_kill: set[str] = field(default_factory=set)
    termed_at: float = 0.0
    in_flight_at_term: set[str] = field(default_factory=set)

    def gaps(self, injector: Injector) -> set[str]:
        """Sent while no session was connected: from each signal to the next IDENTIFY."""
        _, reconnected_at, took_over_at = injector.fake.stats.identified_at
        gaps = injector.sent_between(self.killed_at, reconnected_at)
        return gaps | injector.sent_between(self.termed_at, took_over_at)


async def crash(redis: Redis, pods: list[Pod], injector: Injector, seen: Failovers) -> float:
    """SIGKILL the leader; seconds until the next one answered."""
    victim = await leader_pod(redis, pods)
    seen.in_flight_at_kill = injector.unanswered()
    seen.killed_at = time.monotonic()
    victim.signal(signal.SIGKILL)
    answered_at = await first_answer_after(injector, seen.killed_at)
    assert victim.process.wait(5) == -signal.SIGKILL
    return answered_at - seen.killed_at


async def hand_over(redis: Redis, pods: list[Pod], injector: Injector, seen: Failovers) -> float:
    """SIGTERM the leader with interactions in flight; seconds until a standby IDENTIFYed."""
    leaving = await leader_pod(redis, pods)
    since = time.monotonic()
    await injector.burst(3)
    seen.in_flight_at_term = injector.unanswered() & injector.sent_between(since, math.inf)
    seen.termed_at = time.monotonic()
    leaving.signal(signal.SIGTERM)
    await injector.fake.wait_for_stat("identifies", 3, timeout_s=STEP_S)
    took_over_at = injector.fake.stats.identified_at[2]
    await first_answer_after(injector, took_over_at)
    assert leaving.process.wait(STEP_S) == 0
    await wait_for_log(leaving, '"lease_released"')
    return took_over_at - seen.termed_at


async def assert_nothing_lost_while_a_leader_was_up(
    redis: Redis, injector: Injector, seen: Failovers
) -> None:
    """Lost: only what no session received (the gaps; an in-flight burst the leaving leader
    had not read yet). What a leader took, it answered, unless it was SIGKILLed meanwhile."""
    lost = injector.unanswered()
    unread = seen.in_flight_at_term - await claimed(redis, seen.in_flight_at_term)
    expected = seen.in_flight_at_kill | seen.gaps(injector) | unread
    assert lost <= expected, sorted(lost - expected)
    taken = await claimed(redis, {r.id for r in injector.records}) - seen.in_flight_at_kill
    assert not taken & lost, f"taken and never answered: {sorted(taken & lost)}"


async def test_the_discord_duty_fails_over_answering_every_interaction_once(
    redis: Redis, fake: FakeDiscord, pods: list[Pod]
) -> None:
    injector, seen = Injector(fake), Failovers()
    await fake.wait_for_stat("identifies", 1, timeout_s=STARTUP_S)
    injector.start()
    await answered(injector, 5)

    crash_s = await crash(redis, pods, injector, seen)
    assert crash_s < CRASH_BOUND_S, f"SIGKILL: a new leader answered after {crash_s:.2f} s"
    await answered(injector, 5)
    handover_s = await hand_over(redis, pods, injector, seen)
    assert handover_s < GRACEFUL_BOUND_S, f"SIGTERM: a standby IDENTIFYed after {handover_s:.2f} s"
    sys.stderr.write(
        f"SIGKILL -> answering {crash_s:.2f} s; SIGTERM -> IDENTIFY {handover_s:.2f} s\n"
    )

    await injector.stop()
    await all_answered_since(injector, fake.stats.identified_at[2])
    assert_answered_at_most_once(fake, injector)
    await assert_nothing_lost_while_a_leader_was_up(redis, injector, seen)
    assert fake.stats.identifies == await identifies_counted(redis) == await terms(redis) == 3
    assert fake.stats.resumes == 0
    for pod in pods:
        assert "Traceback" not in pod.log_text(), pod.log_text()
