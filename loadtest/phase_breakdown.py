"""Pure arithmetic of P5: one job's sample split into model, tests, git and our overhead.

`overhead = wall - model - tests - git`: everything a phase spends outside the model, the test
subprocess and git, i.e. our orchestration (Redis transactions, slot leases, the timeline,
tool dispatch, workspace bookkeeping, Python). `tool`, `cleanup` (temp dirs), `redis` and `other` split it
further; `overhead + git` is everything but the model and the tests.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from loadtest.phase_probe import JobSample
from loadtest.stats import percentile

__all__ = ["PHASE_ORDER", "PhaseBreakdown", "breakdown", "git_totals", "p", "phase_of"]

PHASE_ORDER = ("DESIGN", "TEST_RED", "CODE_GREEN", "REFACTOR", "COMMIT")


def phase_of(job_id: str) -> str:
    """`phase:<project>:<cycle>:<PHASE>:<run>` -> `<PHASE>`; `?` for any other id."""
    parts = job_id.split(":")
    return parts[3] if len(parts) == 5 and parts[0] == "phase" else "?"


@dataclass(frozen=True)
class PhaseBreakdown:
    """Milliseconds of one phase job, by where they went; counts of processes and round trips."""

    phase: str
    outcome: str
    wall_ms: float
    model_ms: float
    tests_ms: float
    git_ms: float
    tool_ms: float
    cleanup_ms: float
    redis_ms: float
    pickup_ms: float
    git_calls: int
    test_runs: int
    round_trips: int  # on the phase's own path; the heartbeat's run alongside
    overhead_cpu_ms: float  # the loop thread's CPU outside model, tests and git
    overhead_wait_ms: float  # ... and its run-queue wait there (ready, but no free core)

    @property
    def overhead_ms(self) -> float:
        return self.wall_ms - self.model_ms - self.tests_ms - self.git_ms

    @property
    def overhead_net_ms(self) -> float:
        """The overhead less its run-queue wait: what it would be on a machine with a free core."""
        return self.overhead_ms - self.overhead_wait_ms

    @property
    def with_git_ms(self) -> float:
        """Everything but the model and the tests: what the 50 ms goal of a phase is about."""
        return self.overhead_ms + self.git_ms

    @property
    def broad_ms(self) -> float:
        """Everything but the model and the tests, the job's hand-off included."""
        return self.with_git_ms + self.pickup_ms

    @property
    def other_ms(self) -> float:
        return self.overhead_ms - self.tool_ms - self.cleanup_ms - self.redis_ms

    def floor_ms(self, rtt_ms: float) -> float:
        """What the phase's Redis round trips cost at the bare round-trip time."""
        return self.round_trips * rtt_ms


def _excluded(category: str) -> bool:
    return category in ("model", "tests") or category.startswith("git:")


def _outside(total_s: float, per_category_s: dict[str, float]) -> float:
    """Milliseconds of `total_s` not spent in the model, the tests or git."""
    inside = sum(v for k, v in per_category_s.items() if _excluded(k))
    return (total_s - inside) * 1000


def breakdown(sample: JobSample) -> PhaseBreakdown:
    ms = {k: v * 1000 for k, v in sample.self_s.items()}
    git = [k for k in ms if k.startswith("git:")]
    _, cpu_s, wait_s = sample.total
    return PhaseBreakdown(
        phase=phase_of(sample.job_id),
        outcome=sample.outcome,
        wall_ms=sample.wall_s * 1000,
        model_ms=ms.get("model", 0.0),
        tests_ms=ms.get("tests", 0.0),
        git_ms=sum(ms[k] for k in git),
        tool_ms=ms.get("tool", 0.0),
        cleanup_ms=ms.get("cleanup", 0.0),
        redis_ms=ms.get("redis", 0.0),
        pickup_ms=sample.pickup_s * 1000,
        git_calls=sum(sample.calls[k] for k in git),
        test_runs=sample.calls["tests"],
        round_trips=sample.calls["redis_rtt"],
        overhead_cpu_ms=_outside(cpu_s, sample.cpu_s),
        overhead_wait_ms=_outside(wait_s, sample.wait_s),
    )


def p(rows: Sequence[PhaseBreakdown], value: Callable[[PhaseBreakdown], float], q: float) -> float:
    """The q-th percentile of `value` over `rows` (NaN when empty)."""
    return percentile([value(r) for r in rows], q)


def git_totals(samples: Iterable[JobSample]) -> dict[str, tuple[int, float]]:
    """Per git subcommand: (calls, total ms) over `samples`, the most expensive first."""
    calls: Counter[str] = Counter()
    spent: Counter[str] = Counter()
    for sample in samples:
        for key, seconds in sample.self_s.items():
            if key.startswith("git:"):
                calls[key] += sample.calls[key]
                spent[key] += round(seconds * 1_000_000)  # µs, so the Counter stays integral
    ordered = sorted(spent, key=lambda k: -spent[k])
    return {k.removeprefix("git:"): (calls[k], spent[k] / 1000) for k in ordered}
