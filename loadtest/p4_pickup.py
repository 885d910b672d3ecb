"""P4: enqueue -> job start latency, our path vs bare arq, on the same Redis and poll delay.

Each run starts one worker process (`loadtest.pickup_worker ours|bare`) on a flushed database,
waits for its health key (it is polling), enqueues `warmup` unmeasured jobs, then `pickup_jobs`
jobs with Poisson arrivals at `pickup_rate`. The enqueue time is read just before the enqueue
call (ours: `shared.jobs.queue.enqueue`, SET NX claim + arq's enqueue, JSON; bare: a default
`create_pool` + `enqueue_job`, pickle); the start time is the job's own first `time.time()`.
Rounds alternate the order (ours, bare, bare, ours, ...) so drift on the box hits both sides.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from arq.connections import ArqRedis, RedisSettings, create_pool

from loadtest.harness import cpu_seconds
from loadtest.pickup_worker import JOB_NAME, POLL_DELAY_ENV
from loadtest.scenario import Row, Section
from loadtest.stats import Goal, LatencySummary, ratio, summarize
from loadtest.worker_procs import ChildProcess, child_env, wait_until
from loadtest.worker_scenario import AbsoluteGoal, absolute_row
from shared.jobs.queue import create_queue, enqueue
from shared.jobs.specs import JobSpec
from shared.state import keys

if TYPE_CHECKING:
    from loadtest.worker_scenario import WorkerBench

__all__ = ["RATIO_GOAL", "run_p4"]

RATIO_GOAL = Goal("<=", 1.5)
P95_GOAL = AbsoluteGoal("<=", 100.0, what="p95", unit="ms")
_WARMUP = 50
_DRAIN_S = 10.0
_BENCH_PROJECT = "wbench"
_STARTS = "awf:wbench:pickup:starts"  # the bench's own hash, never read by the services


@dataclass(frozen=True)
class _Run:
    variant: str
    round: int
    pickup: LatencySummary
    enqueue: LatencySummary
    worker_cpu_s: float
    startup_s: float
    lost: int
    pickups_s: list[float]

    @property
    def cpu_per_job_us(self) -> float:
        return self.worker_cpu_s / self.pickup.count * 1e6 if self.pickup.count else float("nan")


async def run_p4(wb: WorkerBench) -> Section:
    runs: list[_Run] = []
    for number in range(wb.config.pickup_rounds):
        order = ("ours", "bare") if number % 2 == 0 else ("bare", "ours")
        runs += [await _one_run(wb, variant, number + 1) for variant in order]
    pooled = {v: _pooled([r for r in runs if r.variant == v]) for v in ("ours", "bare")}
    wb.pickup_floor = pooled["bare"]
    return _section(wb, runs, pooled)


def _pooled(runs: list[_Run]) -> LatencySummary:
    merged = [x for r in runs for x in r.pickups_s]
    wall = sum(r.pickup.wall_s for r in runs)
    return summarize(merged, len(merged), sum(r.lost for r in runs), wall)


async def _one_run(wb: WorkerBench, variant: str, number: int) -> _Run:
    await wb.redis.flushdb()
    hostname = f"awf-wbench-p4-{variant}"
    env = child_env(
        wb.workdir,
        REDIS_URL=wb.redis_url,
        ANTHROPIC_BASE_URL=wb.model_url,
        HOSTNAME=hostname,
        **{POLL_DELAY_ENV: str(wb.config.poll_delay_s)},
    )
    health = f"{keys.ARQ_QUEUE}:health-check" + (f":{hostname}" if variant == "ours" else "")
    child = ChildProcess(
        f"p4-{variant}-{number}", "loadtest.pickup_worker", variant, env=env, workdir=wb.workdir
    )
    with child:
        startup_s = await wait_until(lambda: _exists(wb, health), child)
        queue = await _queue(wb.redis_url, variant)
        try:
            await _send(queue, variant, f"{_STARTS}:warmup", _WARMUP, wb.config.pickup_rate * 4)
            cpu_before = cpu_seconds(child.pid)
            sent = await _send(
                queue, variant, _STARTS, wb.config.pickup_jobs, wb.config.pickup_rate
            )
            starts = await _collect(wb, len(sent))
            cpu = cpu_seconds(child.pid) - cpu_before
        finally:
            await queue.aclose()
    return _summarize_run(variant, number, sent, starts, cpu, startup_s)


async def _exists(wb: WorkerBench, key: str) -> bool:
    return bool(await wb.redis.exists(key))


async def _queue(redis_url: str, variant: str) -> ArqRedis:
    if variant == "ours":
        return await create_queue(redis_url)
    return await create_pool(RedisSettings.from_dsn(redis_url))


async def _send(
    queue: ArqRedis, variant: str, key: str, count: int, rate: float
) -> list[tuple[float, float]]:
    """Enqueue `count` jobs with exponential gaps; (enqueued at, seconds the call took) each."""
    sent: list[tuple[float, float]] = []
    for n in range(count):
        await asyncio.sleep(random.expovariate(rate))
        at = time.time()
        if variant == "ours":
            job = JobSpec(JOB_NAME, f"pickup:{key}:{n}", _BENCH_PROJECT, {"key": key, "n": n})
            await enqueue(queue, job)
        else:
            await queue.enqueue_job(JOB_NAME, key=key, n=n)
        sent.append((at, time.time() - at))
    return sent


async def _collect(wb: WorkerBench, expected: int) -> dict[int, float]:
    for _ in range(int(_DRAIN_S / 0.05)):
        if await wb.redis.hlen(_STARTS) >= expected:  # type: ignore[misc]
            break
        await asyncio.sleep(0.05)
    raw: dict[str, str] = await wb.redis.hgetall(_STARTS)  # type: ignore[misc]
    return {int(n): float(at) for n, at in raw.items()}


def _summarize_run(
    variant: str,
    number: int,
    sent: list[tuple[float, float]],
    starts: dict[int, float],
    cpu_s: float,
    startup_s: float,
) -> _Run:
    pickups = [starts[n] - at for n, (at, _) in enumerate(sent) if n in starts]
    wall = (max(starts.values()) - sent[0][0]) if starts else 0.0
    return _Run(
        variant=variant,
        round=number,
        pickup=summarize(pickups, len(pickups), len(sent) - len(pickups), wall),
        enqueue=summarize([took for _, took in sent], len(sent), 0, wall),
        worker_cpu_s=cpu_s,
        startup_s=startup_s,
        lost=len(sent) - len(pickups),
        pickups_s=pickups,
    )


def _section(wb: WorkerBench, runs: list[_Run], pooled: dict[str, LatencySummary]) -> Section:
    ours, bare = pooled["ours"], pooled["bare"]
    title = "P4 pickup (enqueue -> job start)"
    rows = [
        Row.checked(
            f"{title} p50, ours vs bare arq",
            f"{ours.p50_ms:.1f} ms",
            f"{bare.p50_ms:.1f} ms",
            ratio(ours.p50_ms, bare.p50_ms),
            RATIO_GOAL,
        ),
        Row.checked(
            f"{title} p95, ours vs bare arq",
            f"{ours.p95_ms:.1f} ms",
            f"{bare.p95_ms:.1f} ms",
            ratio(ours.p95_ms, bare.p95_ms),
            RATIO_GOAL,
        ),
        absolute_row(f"{title} p95, ours (absolute)", ours.p95_ms, bare.p95_ms, P95_GOAL),
    ]
    rows.append(_enqueue_row(runs))
    rows.append(_cpu_row(runs))
    return Section("P4: job pickup, our queue path vs bare arq", rows, _details(wb, runs))


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _enqueue_row(runs: list[_Run]) -> Row:
    ours = _mean([r.enqueue.p50_ms for r in runs if r.variant == "ours"])
    bare = _mean([r.enqueue.p50_ms for r in runs if r.variant == "bare"])
    return Row(
        "P4 enqueue call p50 (ours: SET NX claim + enqueue_job)",
        f"{ours:.2f} ms",
        f"{bare:.2f} ms",
        ratio(ours, bare),
        None,
    )


def _cpu_row(runs: list[_Run]) -> Row:
    ours = _mean([r.cpu_per_job_us for r in runs if r.variant == "ours"])
    bare = _mean([r.cpu_per_job_us for r in runs if r.variant == "bare"])
    return Row(
        "P4 worker CPU per job (idle polling included)",
        f"{ours:,.0f} µs",
        f"{bare:,.0f} µs",
        ratio(ours, bare),
        None,
    )


def _details(wb: WorkerBench, runs: list[_Run]) -> list[str]:
    cfg = wb.config
    lines = [
        "| round | worker | jobs | lost | pickup p50 ms | p95 ms | p99 ms | max ms | enqueue p50 ms | worker CPU/job µs | startup s |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in runs:
        p = r.pickup
        lines.append(
            f"| {r.round} | {r.variant} | {p.count:,} | {r.lost} | {p.p50_ms:.1f} | {p.p95_ms:.1f} | "
            f"{p.p99_ms:.1f} | {p.max_ms:.1f} | {r.enqueue.p50_ms:.2f} | {r.cpu_per_job_us:,.0f} | {r.startup_s:.1f} |"
        )
    lines += [
        "",
        f"Both workers poll every {cfg.poll_delay_s * 1000:g} ms (ours' own `poll_delay`; arq's default "
        "is 500 ms, set to the same value for the bare worker), so about half a poll interval of "
        "every pickup is the poll itself, on both sides. Arrivals are Poisson at "
        f"{cfg.pickup_rate:g} jobs/s, one enqueuer in this process, {_WARMUP} unmeasured jobs "
        "first. Ours: `python -m loadtest.pickup_worker ours`, i.e. `build_worker_settings` "
        "(JSON serializer, max_jobs, abort polling, health key, startup deps, reconcile cron, "
        "structlog JSON at INFO) with the job registered like `run_phase`; bare: a stock arq "
        "`Worker` (pickle, no logging set up) with the same function. `lost` = jobs that had not "
        f"started {_DRAIN_S:g} s after the last enqueue.",
    ]
    return lines
