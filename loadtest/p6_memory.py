"""P6: memory of one idle worker process, ours (`python -m services.worker`) vs a bare arq worker.

Both start together on a flushed database (so our reconcile cron finds nothing to do); each is
read when its health key appears (it is polling) and again after `idle_s` of idling. RSS is
VmRSS from /proc/<pid>/status; PSS, from smaps_rollup, splits the pages the two share (the
interpreter, common libraries) between them, so it is the fairer per-process cost.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from loadtest.harness import cpu_seconds
from loadtest.scenario import Row, Section
from loadtest.stats import ratio
from loadtest.worker_procs import ChildProcess, Memory, child_env, read_memory, wait_until
from loadtest.worker_scenario import AbsoluteGoal, absolute_row
from shared.state import keys

if TYPE_CHECKING:
    from loadtest.worker_scenario import WorkerBench

__all__ = ["run_p6"]

RSS_GOAL = AbsoluteGoal("<=", 150.0, what="RSS", unit="MiB")
_HOST = "awf-wbench-p6"


@dataclass(frozen=True)
class _Reading:
    name: str
    startup_s: float
    ready: Memory
    idle: Memory
    idle_cpu_s: float


async def run_p6(wb: WorkerBench) -> Section:
    await wb.redis.flushdb()
    ours = _child(wb, "p6-ours", "services.worker")
    bare = _child(wb, "p6-bare", "loadtest.pickup_worker", "bare")
    health = {
        ours: f"{keys.ARQ_QUEUE}:health-check:{_HOST}",
        bare: f"{keys.ARQ_QUEUE}:health-check",
    }
    with ours, bare:
        waits = [wait_until(_has(wb, key), c) for c, key in health.items()]
        startup = dict(zip(health, await asyncio.gather(*waits), strict=True))
        ready = {c: read_memory(c.pid) for c in health}
        cpu = {c: cpu_seconds(c.pid) for c in health}
        await asyncio.sleep(wb.config.idle_s)
        readings = [
            _Reading(c.name, startup[c], ready[c], read_memory(c.pid), cpu_seconds(c.pid) - cpu[c])
            for c in health
        ]
    return _section(wb, readings[0], readings[1])


def _child(wb: WorkerBench, name: str, module: str, *args: str) -> ChildProcess:
    env = child_env(
        wb.workdir, REDIS_URL=wb.redis_url, ANTHROPIC_BASE_URL=wb.model_url, HOSTNAME=_HOST
    )
    return ChildProcess(name, module, *args, env=env, workdir=wb.workdir)


def _has(wb: WorkerBench, key: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return bool(await wb.redis.exists(key))

    return check


def _section(wb: WorkerBench, ours: _Reading, bare: _Reading) -> Section:
    idle = f"after {wb.config.idle_s:g} s idle"
    rows = [
        absolute_row(f"P6 worker RSS {idle}", ours.idle.rss_mib, bare.idle.rss_mib, RSS_GOAL),
        Row(
            f"P6 worker PSS {idle}",
            f"{ours.idle.pss_mib:.1f} MiB",
            f"{bare.idle.pss_mib:.1f} MiB",
            ratio(ours.idle.pss_mib, bare.idle.pss_mib),
            None,
        ),
    ]
    lines = [
        "| process | startup s | RSS ready MiB | PSS ready MiB | RSS idle MiB | PSS idle MiB | CPU while idle s |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in (ours, bare):
        lines.append(
            f"| {r.name} | {r.startup_s:.1f} | {r.ready.rss_mib:.1f} | {r.ready.pss_mib:.1f} | "
            f"{r.idle.rss_mib:.1f} | {r.idle.pss_mib:.1f} | {r.idle_cpu_s:.2f} |"
        )
    lines += [
        "",
        "Ours: `python -m services.worker` (REDIS_URL, ANTHROPIC_BASE_URL = the fake, AWF_ENV=test, an "
        "empty config file). Floor: `python -m loadtest.pickup_worker bare`, a stock arq worker with "
        "one trivial function. Both run together, same interpreter and virtualenv. *startup* is "
        "process start to the health key in Redis.",
    ]
    return Section("P6: idle memory per worker process", rows, lines)
