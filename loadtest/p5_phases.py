"""P5: orchestration overhead per TDD phase, with an instant model and test runtime excluded.

One real sprint (`loadtest.p5_sprint`); each `run_phase` job's wall time is split by
`loadtest.phase_probe` into model, tests, git and the rest, our overhead. The floor is what the
phase's own Redis round trips would cost at the bare round-trip time: a redis-py `PING` on an
idle connection, p50 of `rtt_samples`, measured just before the sprint in this process.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from loadtest.git_floor import GIT_FLOOR_COMMANDS, bare_git_phase_ms
from loadtest.p5_details import details, phase_runs
from loadtest.p5_sprint import run_sprint
from loadtest.phase_breakdown import PhaseBreakdown, breakdown, p
from loadtest.scenario import Row, Section
from loadtest.stats import percentile, ratio
from loadtest.worker_scenario import AbsoluteGoal, absolute_row
from shared.platform.redis import create_redis

if TYPE_CHECKING:
    from loadtest.worker_scenario import WorkerBench

__all__ = ["run_p5"]

P50_GOAL = AbsoluteGoal("<=", 50.0, what="p50", unit="ms")
P95_GOAL = AbsoluteGoal("<=", 50.0, what="p95", unit="ms")
GIT_FLOOR_SAMPLES = 15


async def bare_rtt_ms(redis_url: str, samples: int) -> list[float]:
    """Sequential PINGs on one idle redis-py connection, as the services' client is built."""
    client = create_redis(redis_url, client_name="awf.wbench.rtt")
    try:
        for _ in range(200):
            await client.ping()
        took = []
        for _ in range(samples):
            began = time.perf_counter()
            await client.ping()
            took.append((time.perf_counter() - began) * 1000)
        return took
    finally:
        await client.aclose()


async def run_p5(wb: WorkerBench) -> Section:
    rtt = percentile(await bare_rtt_ms(wb.redis_url, wb.config.rtt_samples), 50)
    git_floor = percentile(await asyncio.to_thread(bare_git_phase_ms, GIT_FLOOR_SAMPLES), 50)
    sprint = await run_sprint(wb)
    phases = [breakdown(s) for s in phase_runs(sprint.samples)]
    return Section(
        "P5: orchestration overhead per TDD phase (instant model, tests excluded)",
        [*_rows(wb, phases, rtt), _git_row(phases, git_floor)],
        details(wb, sprint, phases, rtt, git_floor),
    )


def _git_row(phases: list[PhaseBreakdown], floor_ms: float) -> Row:
    ours = p([x for x in phases if x.git_calls == GIT_FLOOR_COMMANDS], lambda x: x.git_ms, 50)
    title = f"P5 git per phase p50, ours vs the same {GIT_FLOOR_COMMANDS} git commands run bare"
    return _info(title, ours, floor_ms)


def _goal_rows(
    phases: list[PhaseBreakdown], title: str, value: Callable[[PhaseBreakdown], float], rtt: float
) -> list[Row]:
    return [
        absolute_row(
            f"{title} p{q}", p(phases, value, q), p(phases, lambda x: x.floor_ms(rtt), q), goal
        )
        for q, goal in ((50, P50_GOAL), (95, P95_GOAL))
    ]


def _rows(wb: WorkerBench, phases: list[PhaseBreakdown], rtt: float) -> list[Row]:
    title = "P5 overhead per phase (wall - model - tests - git)"
    floor50 = p(phases, lambda x: x.floor_ms(rtt), 50)
    bare = wb.pickup_floor.p50_ms if wb.pickup_floor else math.nan
    procs = f"{p(phases, lambda x: x.git_calls, 50):.0f} procs"
    net = "P5 overhead less run-queue wait (as on a free core)"
    with_git = "P5 overhead + git per phase (wall - model - tests)"
    return [
        *_goal_rows(phases, title, lambda x: x.overhead_ms, rtt),
        *_goal_rows(phases, with_git, lambda x: x.with_git_ms, rtt),
        *_goal_rows(phases, net, lambda x: x.overhead_net_ms, rtt),
        _info(
            "P5 overhead, event-loop CPU p50", p(phases, lambda x: x.overhead_cpu_ms, 50), floor50
        ),
        _info(
            "P5 git per phase p50 (processes per phase)",
            p(phases, lambda x: x.git_ms, 50),
            math.nan,
            procs,
        ),
        _info(
            "P5 hand-off enqueue -> start p50 (floor: P4 bare arq)",
            p(phases, lambda x: x.pickup_ms, 50),
            bare,
        ),
        _info(
            "P5 overhead + git + hand-off p50 (all but model and tests)",
            p(phases, lambda x: x.broad_ms, 50),
            math.nan,
        ),
    ]


def _info(benchmark: str, ours: float, floor: float, floor_text: str | None = None) -> Row:
    floor_cell = floor_text or ("-" if math.isnan(floor) else f"{floor:.1f} ms")
    return Row(benchmark, f"{ours:.1f} ms", floor_cell, ratio(ours, floor), None)
