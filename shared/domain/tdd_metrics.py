"""TDD metrics of a set of cycles, as small pure functions over the cycle records.

- Attempts, passes and gate refusals per phase count the evidence each cycle recorded.
- Time in a phase runs from entering it (the cycle's start, the previous phase's pass, or a skip)
  to the pass of its gate: wall-clock, so queueing, retries and pauses are included. A cycle
  whose oldest evidence was trimmed (`MAX_EVIDENCE`) gives no time for its first retained phase.
- A cycle's duration runs from its start to its completion, for done cycles only.

Sprint-level measures (velocity, burndown, cycle time of stories) are in `metrics`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from shared.domain.phases import Phase
from shared.domain.tdd import LIVE, MAX_EVIDENCE, CycleStatus, TDDCycle

__all__ = [
    "PhaseStats",
    "TddMetrics",
    "cycle_seconds",
    "phase_stats",
    "status_counts",
    "tdd_metrics",
    "time_in_phases",
]


@dataclass(frozen=True)
class PhaseStats:
    phase: str
    attempts: int
    passed: int
    refused: int
    skipped: int
    mean_attempts: float | None  # per cycle that recorded the phase
    mean_time_in_phase_s: float | None
    mean_test_s: float | None


@dataclass(frozen=True)
class TddMetrics:
    cycles: int
    by_status: dict[str, int]
    done: int
    blocked: int
    active: int
    paused: int
    aborted: int
    gate_refusals: int
    test_runs: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    mean_cycle_s: float | None
    phases: list[PhaseStats]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def status_counts(cycles: Iterable[TDDCycle]) -> dict[str, int]:
    counts = Counter(c.status.value for c in cycles)
    return {s.value: counts.get(s.value, 0) for s in CycleStatus}


def time_in_phases(cycle: TDDCycle) -> dict[str, list[float]]:
    """Seconds from entering each phase to its gate's pass, per passed phase."""
    marks = [
        (e.recorded_at, e.phase, "pass" if e.gate_passed else "refused") for e in cycle.evidence
    ]
    marks += [(s.at, s.phase, "skip") for s in cycle.skips]
    entered: datetime | None = None if len(cycle.evidence) >= MAX_EVIDENCE else cycle.created_at
    times: dict[str, list[float]] = {}
    for at, phase, kind in sorted(marks, key=lambda m: m[0]):
        if kind == "refused":
            continue  # still in the phase
        if kind == "pass" and entered is not None:
            times.setdefault(phase, []).append((at - entered).total_seconds())
        entered = at
    return times


def phase_stats(cycles: Sequence[TDDCycle], phase: Phase) -> PhaseStats:
    recorded = [e for c in cycles for e in c.evidence if e.phase == phase.value]
    reached = sum(1 for c in cycles if any(e.phase == phase.value for e in c.evidence))
    times = [t for c in cycles for t in time_in_phases(c).get(phase.value, [])]
    tests = [e.test_run.duration_s for e in recorded if e.test_run is not None]
    passed = sum(1 for e in recorded if e.gate_passed)
    return PhaseStats(
        phase=phase.value,
        attempts=len(recorded),
        passed=passed,
        refused=len(recorded) - passed,
        skipped=sum(1 for c in cycles for s in c.skips if s.phase == phase.value),
        mean_attempts=round(len(recorded) / reached, 3) if reached else None,
        mean_time_in_phase_s=_mean(times),
        mean_test_s=_mean(tests),
    )


def cycle_seconds(cycle: TDDCycle) -> float | None:
    if cycle.status is not CycleStatus.DONE:
        return None
    return ((cycle.completed_at or cycle.updated_at) - cycle.created_at).total_seconds()


def tdd_metrics(cycles: Sequence[TDDCycle]) -> TddMetrics:
    counts = status_counts(cycles)
    phases = [phase_stats(cycles, p) for p in Phase]
    durations = [s for c in cycles if (s := cycle_seconds(c)) is not None]
    return TddMetrics(
        cycles=len(cycles),
        by_status=counts,
        done=counts[CycleStatus.DONE.value],
        blocked=counts[CycleStatus.BLOCKED.value],
        active=sum(counts[s.value] for s in LIVE),
        paused=counts[CycleStatus.PAUSED.value],
        aborted=counts[CycleStatus.ABORTED.value],
        gate_refusals=sum(p.refused for p in phases),
        test_runs=sum(c.test_runs for c in cycles),
        input_tokens=sum(c.input_tokens for c in cycles),
        output_tokens=sum(c.output_tokens for c in cycles),
        cost_usd=round(sum(c.cost_usd for c in cycles), 6),
        mean_cycle_s=_mean(durations),
        phases=phases,
    )


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None
