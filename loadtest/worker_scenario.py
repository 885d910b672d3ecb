"""What the worker benchmarks share: the running bench, and goals on absolute values."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from loadtest.scenario import Row
from loadtest.stats import Goal

if TYPE_CHECKING:
    from pathlib import Path

    from redis.asyncio import Redis

    from loadtest.stats import LatencySummary
    from loadtest.worker_config import WorkerBenchConfig

__all__ = ["AbsoluteGoal", "WorkerBench", "absolute_row"]


@dataclass
class WorkerBench:
    """The private Valkey and the fake model, shared by P4-P6 of one run."""

    config: WorkerBenchConfig
    workdir: Path
    redis_url: str
    redis_pid: int
    redis: Redis  # str replies, like the services
    model_url: str  # the fake Anthropic server, a process of its own
    pickup_floor: LatencySummary | None = None  # P4's bare arq pickup, P5's hand-off floor


@dataclass(frozen=True)
class AbsoluteGoal(Goal):
    """A goal on a measured value rather than a ratio, e.g. `p95 <= 100 ms`."""

    what: str = "p95"
    unit: str = "ms"

    def __str__(self) -> str:
        return f"{self.what} {self.op} {self.threshold:g} {self.unit}"


def absolute_row(
    benchmark: str, ours: float, floor: float, goal: AbsoluteGoal, digits: int = 1
) -> Row:
    """A summary row whose ratio column is ours/floor but whose verdict is `goal` on `ours`."""
    ratio = ours / floor if floor and not math.isnan(floor) else math.nan
    cells = (f"{ours:,.{digits}f} {goal.unit}", f"{floor:,.{digits}f} {goal.unit}")
    return Row(benchmark, cells[0], cells[1], ratio, goal, goal.met(ours))
