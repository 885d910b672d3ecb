"""TDD metrics as pure functions of cycle records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.evidence import PhaseEvidence
from shared.domain.evidence import TestRun as Run
from shared.domain.phases import Phase
from shared.domain.tdd import MAX_EVIDENCE, CycleStatus, PhaseSkip, TDDCycle
from shared.domain.tdd_metrics import (
    cycle_seconds,
    phase_stats,
    status_counts,
    tdd_metrics,
    time_in_phases,
)

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ev(phase: Phase, seconds: float, passed: bool, test_s: float | None = None) -> PhaseEvidence:
    run = Run(command=["pytest"], exit_code=0, duration_s=test_s) if test_s else None
    return PhaseEvidence(
        phase=phase.value, attempt=1, gate_passed=passed, recorded_at=at(seconds), test_run=run
    )


def make_cycle(
    *evidence: PhaseEvidence, status: CycleStatus = CycleStatus.QUEUED, **fields: object
) -> TDDCycle:
    return TDDCycle(
        id="cycle-0000000a",
        project_id="p",
        story_id="story-0000000a",
        status=status,
        evidence=list(evidence),
        created_at=T0,
        updated_at=T0,
        **fields,
    )


def test_no_cycles_gives_zeros_and_no_means() -> None:
    metrics = tdd_metrics([])
    assert (metrics.cycles, metrics.done, metrics.gate_refusals) == (0, 0, 0)
    assert metrics.mean_cycle_s is None
    assert [p.phase for p in metrics.phases] == [p.value for p in Phase]
    assert all(p.mean_time_in_phase_s is None and p.attempts == 0 for p in metrics.phases)
    assert set(metrics.by_status) == {s.value for s in CycleStatus}


def test_time_in_phase_runs_from_entering_it_to_its_pass() -> None:
    skipped = PhaseSkip(phase="TEST_RED", by="paula", justification="spike", at=at(40))
    cycle = make_cycle(
        ev(Phase.DESIGN, 10, passed=False),  # a refusal keeps the clock running
        ev(Phase.DESIGN, 30, passed=True),
        ev(Phase.CODE_GREEN, 100, passed=True),
        skips=[skipped],
    )
    assert time_in_phases(cycle) == {"DESIGN": [30.0], "CODE_GREEN": [60.0]}


def test_trimmed_evidence_gives_no_time_for_the_first_phase_it_shows() -> None:
    refusals = [ev(Phase.TEST_RED, 10 + i, passed=False) for i in range(MAX_EVIDENCE - 2)]
    cycle = make_cycle(
        *refusals, ev(Phase.TEST_RED, 60, passed=True), ev(Phase.CODE_GREEN, 90, passed=True)
    )
    assert time_in_phases(cycle) == {"CODE_GREEN": [30.0]}


def test_phase_stats_count_attempts_refusals_and_skips() -> None:
    first = make_cycle(
        ev(Phase.TEST_RED, 10, passed=False, test_s=2.0),
        ev(Phase.TEST_RED, 20, passed=True, test_s=4.0),
    )
    second = make_cycle(
        ev(Phase.TEST_RED, 5, passed=True, test_s=3.0),
        skips=[PhaseSkip(phase="DESIGN", by="paula", justification="known")],
    )
    red = phase_stats([first, second], Phase.TEST_RED)
    assert (red.attempts, red.passed, red.refused) == (3, 2, 1)
    assert red.mean_attempts == 1.5
    assert red.mean_test_s == 3.0
    assert red.mean_time_in_phase_s == 12.5  # 20 s and 5 s from the cycles' starts
    assert phase_stats([first, second], Phase.DESIGN).skipped == 1


def test_cycle_seconds_only_for_done_cycles() -> None:
    done = make_cycle(status=CycleStatus.DONE, completed_at=at(600))
    done_without_completion = make_cycle(status=CycleStatus.DONE).model_copy(
        update={"updated_at": at(300)}
    )
    assert cycle_seconds(done) == 600.0
    assert cycle_seconds(done_without_completion) == 300.0
    assert cycle_seconds(make_cycle(status=CycleStatus.ABORTED, completed_at=at(5))) is None


def test_metrics_of_a_mixed_set() -> None:
    cycles = [
        make_cycle(status=CycleStatus.DONE, completed_at=at(100), input_tokens=10, cost_usd=0.5),
        make_cycle(status=CycleStatus.BLOCKED, output_tokens=7, cost_usd=0.25),
        make_cycle(status=CycleStatus.RUNNING, test_runs=3),
        make_cycle(status=CycleStatus.WAITING),
        make_cycle(status=CycleStatus.PAUSED),
        make_cycle(ev(Phase.DESIGN, 1, passed=False), status=CycleStatus.ABORTED),
    ]
    metrics = tdd_metrics(cycles)
    assert (metrics.done, metrics.blocked, metrics.active) == (1, 1, 2)
    assert (metrics.paused, metrics.aborted, metrics.cycles) == (1, 1, 6)
    assert (metrics.gate_refusals, metrics.test_runs) == (1, 3)
    assert (metrics.input_tokens, metrics.output_tokens, metrics.cost_usd) == (10, 7, 0.75)
    assert metrics.mean_cycle_s == 100.0
    assert metrics.as_dict()["phases"][0]["refused"] == 1
    assert status_counts(cycles)["queued"] == 0


EVIDENCE = st.lists(
    st.tuples(st.sampled_from(list(Phase)), st.integers(0, 10_000), st.booleans()), max_size=25
)


@settings(database=None)
@given(st.lists(st.tuples(st.sampled_from(list(CycleStatus)), EVIDENCE), max_size=8))
def test_counts_always_add_up(
    specs: list[tuple[CycleStatus, list[tuple[Phase, int, bool]]]],
) -> None:
    cycles = [make_cycle(*(ev(p, s, ok) for p, s, ok in items), status=st_) for st_, items in specs]
    metrics = tdd_metrics(cycles)
    assert sum(metrics.by_status.values()) == metrics.cycles == len(cycles)
    assert metrics.gate_refusals == sum(p.attempts - p.passed for p in metrics.phases)
    assert sum(p.attempts for p in metrics.phases) == sum(len(c.evidence) for c in cycles)
    for cycle in cycles:
        assert all(t >= 0 for times in time_in_phases(cycle).values() for t in times)
