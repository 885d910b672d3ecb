"""P5's detail section: the per-phase table, the git table, and notes on method and hotspots."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from loadtest.phase_breakdown import PHASE_ORDER, PhaseBreakdown, git_totals, p
from shared.jobs import names

if TYPE_CHECKING:
    from loadtest.p5_sprint import SprintRun
    from loadtest.phase_probe import JobSample
    from loadtest.worker_scenario import WorkerBench

__all__ = ["details", "phase_runs"]

_DEFERRED = "Retry"  # a run_phase job that found no free slot raises arq's Retry


def phase_runs(samples: Iterable[JobSample]) -> list[JobSample]:
    """The phase jobs that ran a phase: not those that found no free slot and deferred."""
    return [s for s in samples if s.function == names.RUN_PHASE and s.outcome != _DEFERRED]


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
    ("**overhead**", lambda x: x.overhead_ms, 50),
    ("overhead p95", lambda x: x.overhead_ms, 95),
    ("its run-queue wait", lambda x: x.overhead_wait_ms, 50),
    ("its CPU", lambda x: x.overhead_cpu_ms, 50),
    ("less wait", lambda x: x.overhead_net_ms, 50),
    ("less wait p95", lambda x: x.overhead_net_ms, 95),
    ("hand-off", lambda x: x.pickup_ms, 50),
)


def _phase_line(name: str, rows: list[PhaseBreakdown], rtt: float) -> str:
    cells = [f"{p(rows, value, q):,.1f}" for _, value, q in _COLUMNS]
    return (
        f"| {name} | {len(rows)} | "
        + " | ".join(cells)
        + f" | {p(rows, lambda x: x.floor_ms(rtt), 50):.1f} |"
    )


def details(
    wb: WorkerBench, sprint: SprintRun, phases: list[PhaseBreakdown], rtt: float, git_floor: float
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
        *_hotspot(sprint, phases),
        "",
        *_verdict(phases, git_floor),
    ]
    return lines


def _git_table(sprint: SprintRun) -> list[str]:
    phase_samples = phase_runs(sprint.samples)
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
    deferred = sum(s.function == names.RUN_PHASE and s.outcome == _DEFERRED for s in sprint.samples)
    stalled = [
        f"**The sprint did not finish within {cfg.sprint_timeout_s:g} s**: {sprint.stalled}.",
        "",
    ]
    return [
        *(stalled if sprint.stalled else []),
        f"Sprint: {sprint.stories} stories, {len(phases)} phase jobs ({outcomes}; left out: {deferred} "
        f"runs that found no free slot and deferred themselves), {sprint.wall_s:.1f} s "
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
        "and tests; *cleanup* is deleting the test runner's scratch dir, synchronously on the event "
        "loop (the phase's working tree is deleted after the job, in the background, and is in no "
        "column); *redis* is time awaiting redis-py on the phase's path; *other* is the rest of our "
        "Python (pydantic, tempdirs, digests, scheduling). *hand-off* is enqueue -> start of the phase's job.",
        "",
        "*its run-queue wait* and *its CPU* are the event-loop thread's, from "
        "`/proc/thread-self/schedstat`, outside the model, tests and git spans: wait is time the "
        "worker was ready to run while other processes held both cores (pytest, git, other people's "
        "jobs on this box). *overhead less run-queue wait* estimates the overhead on a machine with a "
        "free core; CPU is what our Python actually burns per phase (the worker's own polling included).",
        "",
    ]


def _hotspot(sprint: SprintRun, phases: list[PhaseBreakdown]) -> list[str]:
    git, broad = p(phases, lambda x: x.git_ms, 50), p(phases, lambda x: x.broad_ms, 50)
    procs, cleanup = p(phases, lambda x: x.git_calls, 50), p(phases, lambda x: x.cleanup_ms, 50)
    totals = git_totals(phase_runs(sprint.samples))
    top = ", ".join(f"{name} {ms / calls:.0f} ms" for name, (calls, ms) in list(totals.items())[:3])
    return [
        f"Hotspots, p50 per phase, of the {broad:.0f} ms that are neither model nor tests:",
        "",
        f"- git, {git:.0f} ms in {procs:.0f} processes (most per call: {top}). A phase fetches "
        "once into its worker's bare mirror of the project's remote (made once per worker with "
        "`git clone --bare`), reads the branch tips there with one `for-each-ref`, starts its "
        "working tree as a copy of an empty repository whose alternates name the mirror's "
        "objects (no process) and checks the story branch out (`checkout -B`), lists its "
        "changes with one `status`, and commits (`add`, `commit`) and pushes to the remote "
        "itself. The push is mostly the remote's `receive-pack` (unpack, connectivity check, "
        "ref update), out of our hands.",
        f"- cleanup, {cleanup:.0f} ms: the test runner's scratch dir. The phase's working tree "
        "is deleted after the job in the background (`MirrorCache`), so neither the phase's "
        "result nor the next phase's enqueue waits for it: deleting a clone of the sample repo "
        "takes 4 ms on an idle box but 90-150 ms on this one when it is busy (single unlinks "
        "and rmdirs of a few ms each), which the phase used to wait for.",
    ]


def _verdict(phases: list[PhaseBreakdown], git_floor: float) -> list[str]:
    overhead = p(phases, lambda x: x.overhead_ms, 50)
    net95 = p(phases, lambda x: x.overhead_net_ms, 95)
    git = p(phases, lambda x: x.git_ms, 50)
    return [
        "Verdict on the 50 ms goal. Our orchestration (everything but the model, the tests and "
        f"git) takes {overhead:.0f} ms p50 per phase, {net95:.0f} ms p95 less the time the "
        "worker waited for a core. Git is the phase's product (the commit on the story branch, "
        f"pushed), not orchestration, and it takes {git:.0f} ms p50 in our phases against "
        f"{git_floor:.0f} ms for the same seven git commands run bare from a plain script in "
        f"this run (`loadtest/git_floor.py`): {_against_floor(git, git_floor)}. With "
        "process start-up of a few ms and the remote's receive-pack per push, no sequence of "
        "git processes that fetches, checks out, commits and pushes fits in 50 ms on this "
        "shared 2-core box. That part of the goal is a physical limit of using the git CLI; a "
        "p95 above 50 ms without the run-queue correction is the box's contention "
        "(other processes holding both cores), not our code.",
    ]


def _against_floor(ours: float, floor: float) -> str:
    if ours <= floor * 1.2:
        return "we are at the git CLI's own floor"
    return f"we spend {ours / floor:.1f}x the bare CLI, **more than git itself needs: a bug**"
