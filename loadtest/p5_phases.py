"""P5: orchestration overhead per TDD phase, with an instant model and test runtime excluded.

One real sprint (`loadtest.p5_sprint`); each `run_phase` job's wall time is split by
`loadtest.phase_probe` into model, tests, git and the rest, our overhead. The floor is what the
phase's own Redis round trips would cost at the bare round-trip time: a redis-py `PING` on an
idle connection, p50 of `rtt_samples`, measured just before the sprint in this process.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from loadtest.p5_sprint import run_sprint
from loadtest.phase_breakdown import PHASE_ORDER, PhaseBreakdown, breakdown, git_totals, p
from loadtest.scenario import Row, Section
from loadtest.stats import percentile, ratio
from loadtest.worker_scenario import AbsoluteGoal, absolute_row
from shared.jobs import names
from shared.platform.redis import create_redis

if TYPE_CHECKING:
    from loadtest.p5_sprint import SprintRun
    from loadtest.worker_scenario import WorkerBench

__all__ = ["run_p5"]

P50_GOAL = AbsoluteGoal("<=", 50.0, what="p50", unit="ms")
P95_GOAL = AbsoluteGoal("<=", 50.0, what="p95", unit="ms")


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
    sprint = await run_sprint(wb)
    phases = [breakdown(s) for s in sprint.samples if s.function == names.RUN_PHASE]
    return Section(
        "P5: orchestration overhead per TDD phase (instant model, tests excluded)",
        _rows(wb, phases, rtt),
        _details(wb, sprint, phases, rtt),
    )


def _rows(wb: WorkerBench, phases: list[PhaseBreakdown], rtt: float) -> list[Row]:
    title = "P5 overhead per phase (wall - model - tests - git)"
    floor50, floor95 = (
        p(phases, lambda x: x.floor_ms(rtt), 50),
        p(phases, lambda x: x.floor_ms(rtt), 95),
    )
    bare = wb.pickup_floor.p50_ms if wb.pickup_floor else math.nan
    procs = f"{p(phases, lambda x: x.git_calls, 50):.0f} procs"
    net = "P5 overhead less run-queue wait (as on a free core)"
    return [
        absolute_row(f"{title} p50", p(phases, _overhead, 50), floor50, P50_GOAL),
        absolute_row(f"{title} p95", p(phases, _overhead, 95), floor95, P95_GOAL),
        absolute_row(f"{net} p50", p(phases, _net, 50), floor50, P50_GOAL),
        absolute_row(f"{net} p95", p(phases, _net, 95), floor95, P95_GOAL),
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
            p(phases, _broad, 50),
            math.nan,
        ),
    ]


def _overhead(x: PhaseBreakdown) -> float:
    return x.overhead_ms


def _net(x: PhaseBreakdown) -> float:
    return x.overhead_net_ms


def _broad(x: PhaseBreakdown) -> float:
    return x.overhead_ms + x.git_ms + x.pickup_ms


def _info(benchmark: str, ours: float, floor: float, floor_text: str | None = None) -> Row:
    floor_cell = floor_text or ("-" if math.isnan(floor) else f"{floor:.1f} ms")
    return Row(benchmark, f"{ours:.1f} ms", floor_cell, ratio(ours, floor), None)


Column = tuple[str, Callable[[PhaseBreakdown], float], float]  # header, value, percentile
_COLUMNS: tuple[Column, ...] = (
    ("wall", lambda x: x.wall_ms, 50),
    ("model", lambda x: x.model_ms, 50),
    ("tests", lambda x: x.tests_ms, 50),
    ("test runs", lambda x: x.test_runs, 50),
    ("git", lambda x: x.git_ms, 50),
    ("git procs", lambda x: x.git_calls, 50),
    ("tool", lambda x: x.tool_ms, 50),
    ("cleanup", lambda x: x.cleanup_ms, 50),
    ("redis", lambda x: x.redis_ms, 50),
    ("round trips", lambda x: x.round_trips, 50),
    ("other", lambda x: x.other_ms, 50),
    ("**overhead**", _overhead, 50),
    ("overhead p95", _overhead, 95),
    ("its run-queue wait", lambda x: x.overhead_wait_ms, 50),
    ("its CPU", lambda x: x.overhead_cpu_ms, 50),
    ("less wait", _net, 50),
    ("less wait p95", _net, 95),
    ("hand-off", lambda x: x.pickup_ms, 50),
)


def _phase_line(name: str, rows: list[PhaseBreakdown], rtt: float) -> str:
    cells = [f"{p(rows, value, q):,.1f}" for _, value, q in _COLUMNS]
    return (
        f"| {name} | {len(rows)} | "
        + " | ".join(cells)
        + f" | {p(rows, lambda x: x.floor_ms(rtt), 50):.1f} |"
    )


def _details(
    wb: WorkerBench, sprint: SprintRun, phases: list[PhaseBreakdown], rtt: float
) -> list[str]:
    header = ["phase", "n", *(c[0] for c in _COLUMNS), "floor"]
    lines = [
        "Milliseconds (counts for runs, procs and round trips), p50 per phase kind unless named "
        "(each column its own p50, so they need not add up).",
        "",
        "| " + " | ".join(header) + " |",
        "| --- |" + " ---: |" * (len(header) - 1),
    ]
    for name in PHASE_ORDER:
        rows = [x for x in phases if x.phase == name]
        if rows:
            lines.append(_phase_line(name, rows, rtt))
    lines += [
        _phase_line("all", phases, rtt),
        "",
        *_git_table(sprint),
        "",
        *_notes(wb, sprint, phases, rtt),
    ]
    return lines


def _git_table(sprint: SprintRun) -> list[str]:
    phase_samples = [s for s in sprint.samples if s.function == names.RUN_PHASE]
    totals = git_totals(phase_samples)
    spent = sum(ms for _, ms in totals.values()) or math.nan
    count = len(phase_samples) or 1
    lines = [
        "| git subcommand | calls per phase | ms per call | share of git time |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, (calls, ms) in totals.items():
        lines.append(f"| {name} | {calls / count:.1f} | {ms / calls:.1f} | {ms / spent:.0%} |")
    return lines


def _notes(
    wb: WorkerBench, sprint: SprintRun, phases: list[PhaseBreakdown], rtt: float
) -> list[str]:
    cfg = wb.config
    outcomes = ", ".join(
        f"{o}: {sum(x.outcome == o for x in phases)}" for o in sorted({x.outcome for x in phases})
    )
    others = sorted({s.function for s in sprint.samples} - {names.RUN_PHASE})
    stalled = [
        f"**The sprint did not finish within {cfg.sprint_timeout_s:g} s**: {sprint.stalled}.",
        "",
    ]
    return [
        *(stalled if sprint.stalled else []),
        f"Sprint: {sprint.stories} stories, {len(phases)} phase jobs ({outcomes}), {sprint.wall_s:.1f} s "
        f"from `project register` to {'the timeout' if sprint.stalled else 'SPRINT_REVIEW'}; other jobs, not counted: {', '.join(others)}. "
        f"One in-process worker (`build_worker_settings`, logging at WARNING), `max_parallel_cycles={cfg.parallel_cycles}` "
        "so phases do not share the event loop; the fake model is its own process.",
        "",
        f"Floor: the phase's own Redis round trips (socket writes on its path, the heartbeat's left out) "
        f"times {rtt * 1000:.0f} µs, the p50 of {cfg.rtt_samples:,} bare redis-py PINGs on an idle connection. "
        "It is the least any orchestration keeping this state in Redis could cost; the ratio says how much "
        "of our overhead is not the round trips themselves. *model* is the SDK call (HTTP, SSE parsing) to "
        "the instant fake; *tests* is the test subprocess, the same interval `TestRun.duration_s` records, "
        "for the gate run and the agent's `run_tests` calls; *tool* is agent tool dispatch minus its git "
        "and tests; *cleanup* is deleting temp dirs (the phase's clone, the test runner's scratch), "
        "synchronously on the event loop; *redis* is time awaiting redis-py on the phase's path; *other* is the rest of our "
        "Python (pydantic, tempdirs, digests, scheduling). *hand-off* is enqueue -> start of the phase's job.",
        "",
        "*its run-queue wait* and *its CPU* are the event-loop thread's, from "
        "`/proc/thread-self/schedstat`, outside the model, tests and git spans: wait is time the "
        "worker was ready to run while other processes held both cores (pytest, git, other people's "
        "jobs on this box). *overhead less run-queue wait* estimates the overhead on a machine with a "
        "free core; CPU is what our Python actually burns per phase (the worker's own polling included).",
        "",
        *_hotspot(phases),
    ]


def _hotspot(phases: list[PhaseBreakdown]) -> list[str]:
    git, broad = p(phases, lambda x: x.git_ms, 50), p(phases, _broad, 50)
    procs, cleanup = p(phases, lambda x: x.git_calls, 50), p(phases, lambda x: x.cleanup_ms, 50)
    return [
        f"Hotspots, p50 per phase, of the {broad:.0f} ms that are neither model nor tests:",
        "",
        f"- git, {git:.0f} ms in {procs:.0f} processes: a full clone into a fresh temp dir and a "
        "checkout, then rev-parse (x4), diff, ls-files, add, diff --cached, commit, symbolic-ref "
        "and push, each a fork+exec (see the table above).",
        f"- temp-dir cleanup, {cleanup:.0f} ms: `TemporaryDirectory` removes the phase's clone (about "
        "26 directories, 35 files) and the test runner's scratch with `shutil.rmtree`, synchronously "
        "on the event loop and before `cycles.record`, so it delays the next phase's enqueue and "
        "stalls every other job and heartbeat of that worker meanwhile. Each rmdir sleeps, and on a "
        "busy box each wake-up waits for a core: most of it is run-queue wait, little is CPU.",
        "",
        "Proposed, not done here (services/worker and shared/ are others' to edit): keep one clone "
        "per story per worker and `git fetch` + `checkout -B` it each phase, or a shared bare "
        "mirror with `git worktree add` (no clone, nothing large to delete); otherwise delete the "
        "clone off the loop (`asyncio.to_thread(shutil.rmtree, ...)`) after `cycles.record` and "
        "the enqueue of the next phase. Fold the HEAD reads into one `rev-parse` and reuse the "
        "test runner's scratch directory.",
    ]
