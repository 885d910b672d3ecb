"""Pure helpers: percentiles, latency summaries, ratios against a floor, goals.

No I/O and no clock here, so the unit tests can pin every number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Goal", "LatencySummary", "percentile", "ratio", "summarize"]


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) by linear interpolation between closest ranks.

    The same definition as numpy's default ("linear", Hyndman & Fan type 7): p0 is the minimum,
    p100 the maximum, p50 of an even-sized sample the mean of the two middle values.
    NaN for an empty sample.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def ratio(ours: float, floor: float) -> float:
    """`ours / floor`; NaN when either side is missing or the floor is zero."""
    if math.isnan(ours) or math.isnan(floor) or floor == 0:
        return math.nan
    return ours / floor


@dataclass(frozen=True)
class Goal:
    """`ratio >= threshold` (higher is better) or `ratio <= threshold` (lower is better)."""

    op: Literal[">=", "<="]
    threshold: float

    def met(self, value: float) -> bool:
        if math.isnan(value):
            return False
        return value >= self.threshold if self.op == ">=" else value <= self.threshold

    def __str__(self) -> str:
        return f"{self.op} {self.threshold:g}"


@dataclass(frozen=True)
class LatencySummary:
    """Latencies in milliseconds; `throughput` is successful requests per second of wall time."""

    count: int
    ok: int
    errors: int
    wall_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float

    @property
    def throughput(self) -> float:
        return self.ok / self.wall_s if self.wall_s > 0 else math.nan


def summarize(latencies_s: Sequence[float], ok: int, errors: int, wall_s: float) -> LatencySummary:
    """Percentiles of `latencies_s` (seconds in, milliseconds out) plus counts."""
    ms = [x * 1000 for x in latencies_s]
    return LatencySummary(
        count=len(ms),
        ok=ok,
        errors=errors,
        wall_s=wall_s,
        p50_ms=percentile(ms, 50),
        p95_ms=percentile(ms, 95),
        p99_ms=percentile(ms, 99),
        mean_ms=sum(ms) / len(ms) if ms else math.nan,
        max_ms=max(ms) if ms else math.nan,
    )
