"""What every benchmark shares: the running bench (servers, clients, seeder) and its result rows."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from loadtest.stats import Goal

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from loadtest.config import BenchConfig
    from loadtest.driver import LoadResult
    from loadtest.harness import ServerProcess
    from loadtest.seeding import Seeder
    from shared.state.store import Store

__all__ = ["Bench", "Row", "Section", "cpu_cells", "fmt", "json_body", "limited_by"]


@dataclass
class Bench:
    """The private Valkey, the API process and in-process clients, for one run."""

    config: BenchConfig
    redis_url: str
    redis_pid: int
    redis: Redis  # str replies, like the services
    raw: Redis  # bytes replies, for DUMP/RESTORE
    store: Store
    seeder: Seeder
    api: ServerProcess
    jwt_secret: str
    auth: dict[str, str]

    def pids(self, server: ServerProcess) -> dict[str, int]:
        return {"server": server.pid, "redis": self.redis_pid}


@dataclass(frozen=True)
class Row:
    """One line of the summary table; `met` is None for information-only lines."""

    benchmark: str
    ours: str
    floor: str
    ratio: float
    goal: Goal | None
    met: bool | None = None

    @classmethod
    def checked(cls, benchmark: str, ours: str, floor: str, ratio: float, goal: Goal) -> Row:
        return cls(benchmark, ours, floor, ratio, goal, goal.met(ratio))

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "info"
        return "pass" if self.met else "**miss**"

    def cells(self) -> list[str]:
        ratio = "-" if math.isnan(self.ratio) else f"{self.ratio:.2f}"
        goal = "-" if self.goal is None else str(self.goal)
        return [self.benchmark, self.ours, self.floor, ratio, goal, self.verdict]


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)


def fmt(value: float, unit: str, digits: int = 0) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:,.{digits}f} {unit}".strip()


def cpu_cells(result: LoadResult) -> list[str]:
    """Cores used during the run: generator, server, valkey, everything else on the machine."""
    procs = result.process_cpu_s
    return [
        f"{result.cpu_share(result.generator_cpu_s):.2f}",
        f"{result.cpu_share(procs.get('server', math.nan)):.2f}",
        f"{result.cpu_share(procs.get('redis', math.nan)):.2f}",
        f"{max(0.0, result.cpu_share(result.other_cpu_s)):.2f}",  # clock-tick rounding
    ]


def limited_by(result: LoadResult) -> str:
    """What most plausibly capped a throughput run: a process at one core, or the whole box."""
    cores = os.cpu_count() or 1
    shares = {
        "generator": result.cpu_share(result.generator_cpu_s),
        "server": result.cpu_share(result.process_cpu_s.get("server", math.nan)),
    }
    busy = result.cpu_share(result.machine_cpu_s)
    capped = [name for name, share in shares.items() if share >= 0.85]
    if busy >= 0.9 * cores:
        other = result.cpu_share(result.other_cpu_s)
        capped.append(f"machine ({busy:.2f} of {cores} cores busy, {other:.2f} by others)")
    return ", ".join(capped) or "latency (no core saturated)"


def json_body(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
