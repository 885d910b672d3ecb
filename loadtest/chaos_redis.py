"""Chaos REDIS: kill -9 Valkey (AOF everysec) mid-sprint, restart it on the same port and data
directory, and check what the users were told against what the server kept.

Acknowledged decisions must all be there (each replays its first answer under its key); plain
writes acknowledged shortly before the kill may be missing (the everysec window): how many, and
how old they were, is measured. So are the outage as the API's clients saw it, the worker's exit
and return, and whether the sprint still reaches its review.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from loadtest.chaos_config import ChaosConfig
from loadtest.chaos_drive import SIDE, Journal, Users
from loadtest.chaos_stack import ChaosStack, Restart, chaos_stack
from loadtest.harness import admin_token
from services.cli.sample_repo import make_sample_repo
from shared.platform.redis import create_redis
from shared.state import keys

__all__ = ["RedisKillResult", "run_redis_kill"]

_AFTER_RESTART_S = 5.0  # the side users keep going this long after the restart
_WINDOW_S = 1.0  # "the last second before the kill"


@dataclass(frozen=True)
class RedisKillResult:
    journal: Journal
    decisions_lost: int  # acknowledged decisions that do not replay their first answer
    writes_lost: int  # acknowledged plain writes missing after the restart
    writes_in_window: int  # acknowledged within _WINDOW_S before the kill
    writes_lost_in_window: int
    oldest_lost_s: float  # how long before the kill the oldest lost write was acknowledged
    restart_s: float  # valkey start to PONG (AOF loaded)
    aof_bytes: int
    api_back_after_restart_s: float  # first 2xx after the restart
    worker_restarts: list[Restart]
    worker_back_after_restart_s: float  # until a worker polled Redis again
    kill_at: float
    restart_at: float
    sprint_state: str | None
    sprint_done_after_restart_s: float  # NaN when the review was not reached


async def run_redis_kill(config: ChaosConfig, workdir: Path) -> RedisKillResult:
    async with chaos_stack(workdir) as stack:
        auth = {"Authorization": f"Bearer {admin_token(stack.secret)}"}
        async with httpx.AsyncClient(base_url=stack.api.base_url, headers=auth, timeout=30) as http:
            users = Users(http)
            await users.setup(make_sample_repo(workdir / "calculator"))
            supervisor = asyncio.create_task(stack.supervise())
            try:
                return await _kill_and_verify(config, stack, users)
            finally:
                supervisor.cancel()
                await asyncio.gather(supervisor, return_exceptions=True)


async def _kill_and_verify(config: ChaosConfig, stack: ChaosStack, users: Users) -> RedisKillResult:
    side_stop, sprint_stop = asyncio.Event(), asyncio.Event()
    side = [
        asyncio.create_task(users.decisions(config.decision_rate, side_stop)),
        asyncio.create_task(users.writes(config.write_rate, side_stop)),
    ]
    approver = asyncio.create_task(users.approve_sprint(sprint_stop))
    await asyncio.sleep(config.kill_after_s)
    kill_at = time.monotonic()
    stack.valkey.kill()
    await asyncio.sleep(config.down_s)
    restart_s = await asyncio.to_thread(stack.valkey.start)
    restart_at = time.monotonic() - restart_s
    worker_back = asyncio.create_task(stack.worker_back())
    await asyncio.sleep(_AFTER_RESTART_S)
    side_stop.set()
    await asyncio.gather(*side)
    state, done_at = await _sprint_end(users, restart_at + config.sprint_timeout_s)
    sprint_stop.set()
    await approver
    result = await _verify(stack, users, kill_at, restart_at, restart_s, state, done_at)
    return dataclasses.replace(result, worker_back_after_restart_s=await worker_back - restart_at)


async def _sprint_end(users: Users, deadline: float) -> tuple[str | None, float]:
    state = None
    while time.monotonic() < deadline:
        state = await users.state_of()
        if state == "SPRINT_REVIEW":
            return state, time.monotonic()
        await asyncio.sleep(1.0)
    return state, math.nan


async def _verify(
    stack: ChaosStack,
    users: Users,
    kill_at: float,
    restart_at: float,
    restart_s: float,
    state: str | None,
    done_at: float,
) -> RedisKillResult:
    journal = users.journal
    replays = [await users.replay(ack) for ack in journal.decisions]
    missing = await _missing_writes(stack.valkey.url, journal.writes)
    window = [(s, t) for s, t in journal.writes if kill_at - _WINDOW_S <= t <= kill_at]
    lost_ages = [kill_at - t for s, t in journal.writes if s in missing]
    back = [t for t in journal.ok_at if t > restart_at]
    aof = stack.valkey.data_dir / "appendonlydir"
    return RedisKillResult(
        journal=journal,
        decisions_lost=replays.count(False),
        writes_lost=len(missing),
        writes_in_window=len(window),
        writes_lost_in_window=sum(1 for s, _ in window if s in missing),
        oldest_lost_s=max(lost_ages, default=0.0),
        restart_s=restart_s,
        aof_bytes=sum(f.stat().st_size for f in aof.glob("*")) if aof.exists() else 0,
        api_back_after_restart_s=(min(back) - restart_at) if back else math.nan,
        worker_restarts=list(stack.restarts),
        worker_back_after_restart_s=math.nan,
        kill_at=kill_at,
        restart_at=restart_at,
        sprint_state=state,
        sprint_done_after_restart_s=done_at - restart_at,
    )


async def _missing_writes(redis_url: str, writes: list[tuple[str, float]]) -> set[str]:
    ids = [story for story, _ in writes]
    if not ids:
        return set()
    redis = create_redis(redis_url, "chaos-verify")
    try:
        found = await redis.mget([keys.entity(SIDE, "story", i) for i in ids])
    finally:
        await redis.aclose()
    return {i for i, value in zip(ids, found, strict=True) if value is None}
