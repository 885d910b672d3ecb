"""P7 (API side): memory of one idle API replica, ours vs the bare floor app.

A fresh `python -m services.api` and a fresh `python -m loadtest.floor_app` (FastAPI + one Redis
client, nothing else) start together; each is read once ready (`/readyz` answered) and again
after `AWF_BENCH_IDLE_S` of idling. RSS is VmRSS; PSS (smaps_rollup) splits the pages the two
share between them. The bench's own API process, loaded by P1-P3, is not the one measured.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from loadtest.harness import ServerProcess
from loadtest.scenario import Bench, Row, Section
from loadtest.stats import ratio
from loadtest.worker_procs import Memory, read_memory
from loadtest.worker_scenario import AbsoluteGoal, absolute_row

__all__ = ["RSS_GOAL", "run_p7"]

RSS_GOAL = AbsoluteGoal("<=", 120.0, what="RSS", unit="MiB")


@dataclass(frozen=True)
class _Reading:
    name: str
    ready: Memory
    idle: Memory


async def run_p7(bench: Bench) -> Section:
    servers = {
        name: ServerProcess(
            module,
            redis_url=bench.redis_url,
            jwt_secret=bench.jwt_secret,
            workdir=bench.api.workdir,
        )
        for name, module in (("ours", "services.api"), ("floor", "loadtest.floor_app"))
    }
    with servers["ours"], servers["floor"]:
        await asyncio.gather(*(s.wait_ready() for s in servers.values()))
        ready = {name: read_memory(s.pid) for name, s in servers.items()}
        await asyncio.sleep(bench.config.idle_s)
        readings = {
            name: _Reading(name, ready[name], read_memory(s.pid)) for name, s in servers.items()
        }
    return _section(bench, readings["ours"], readings["floor"])


def _section(bench: Bench, ours: _Reading, floor: _Reading) -> Section:
    idle = f"after {bench.config.idle_s:g} s idle"
    rows = [
        absolute_row(f"P7 API replica RSS {idle}", ours.idle.rss_mib, floor.idle.rss_mib, RSS_GOAL),
        Row(
            f"P7 API replica PSS {idle}",
            f"{ours.idle.pss_mib:.1f} MiB",
            f"{floor.idle.pss_mib:.1f} MiB",
            ratio(ours.idle.pss_mib, floor.idle.pss_mib),
            None,
        ),
    ]
    lines = [
        "| process | RSS ready MiB | PSS ready MiB | RSS idle MiB | PSS idle MiB |",
        "| --- | ---: | ---: | ---: | ---: |",
        *(
            f"| {module} | {r.ready.rss_mib:.1f} | {r.ready.pss_mib:.1f} | {r.idle.rss_mib:.1f} "
            f"| {r.idle.pss_mib:.1f} |"
            for module, r in (
                ("services.api (ours)", ours),
                ("loadtest.floor_app (floor)", floor),
            )
        ),
        "",
        "Both are fresh processes started together with the bench's settings (AWF_ENV=test, an "
        "empty config file), same interpreter and virtualenv; *ready* is when `/readyz` first "
        "answered 200. The goal is on ours' RSS; the floor shows what Python, FastAPI, uvicorn "
        "and redis-py cost before any of our code.",
    ]
    return Section("P7: idle memory per API replica", rows, lines)
