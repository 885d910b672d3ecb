"""What the /tdd reads show and which steering command fits which cycle: pure functions."""

from __future__ import annotations

import pytest

from shared.domain.evidence import Outcome, PhaseEvidence
from shared.domain.evidence import TestOutcome as Case
from shared.domain.evidence import TestRun as Run
from shared.domain.models import Story
from shared.domain.phases import Phase
from shared.domain.tdd import CycleStatus, PhaseSkip, TDDCycle
from shared.domain.tdd_steering import STEERING, commands_for, fits, refusal
from shared.domain.tdd_views import (
    TAIL_CHARS,
    cycle_view,
    evidence_view,
    is_tdd_event,
    mentions,
    overview_row,
)


def make_cycle(status: CycleStatus = CycleStatus.QUEUED, **fields: object) -> TDDCycle:
    return TDDCycle(
        id="cycle-0000000a",
        project_id="p",
        story_id="story-0000000a",
        status=status,
        **fields,
    )


def test_evidence_view_shows_tests_exit_code_duration_tail_and_commit() -> None:
    tests = [
        Case(id="t.py::a", outcome=Outcome.PASSED),
        Case(id="t.py::b", outcome=Outcome.FAILED),
    ]
    run = Run(command=["pytest"], exit_code=1, duration_s=2.3456, tests=tests)
    run = run.model_copy(update={"output_tail": "x" * 5_000})
    view = evidence_view(
        PhaseEvidence(phase="CODE_GREEN", attempt=2, test_run=run, commit_sha="abc")
    )
    assert (view["phase"], view["attempt"], view["commit_sha"]) == ("CODE_GREEN", 2, "abc")
    shown = view["test_run"]
    assert (shown["exit_code"], shown["duration_s"]) == (1, 2.346)
    assert (shown["passed"], shown["failed"], shown["failing_ids"]) == (1, 1, ["t.py::b"])
    assert len(shown["output_tail"]) == TAIL_CHARS


def test_cycle_view_lists_only_the_phases_reached() -> None:
    skip = PhaseSkip(phase="DESIGN", by="paula", justification="agreed")
    cycle = make_cycle(
        phase=Phase.CODE_GREEN,
        attempts={"TEST_RED": 1},
        evidence=[PhaseEvidence(phase="TEST_RED", attempt=1, gate_passed=True)],
        skips=[skip],
    )
    view = cycle_view(cycle)
    assert set(view["phases"]) == {"DESIGN", "TEST_RED"}
    assert view["phases"]["DESIGN"]["skipped"]["by"] == "paula"
    assert view["phases"]["DESIGN"]["latest"] is None
    assert view["phases"]["TEST_RED"]["passed"] is True


def test_overview_row_with_and_without_a_cycle() -> None:
    story = Story(id="story-0000000a", project_id="p", title="Add")
    assert overview_row(story, None)["status"] is None
    row = overview_row(story, make_cycle(attempts={"DESIGN": 2, "TEST_RED": 1}))
    assert (row["status"], row["attempts_total"]) == ("queued", 3)


def test_mentions_looks_at_the_top_the_args_and_the_result() -> None:
    story, cycle = {"story-1"}, {"cycle-1"}
    assert mentions({"story_id": "story-1"}, story, cycle)
    assert mentions({"args": {"story_id": "story-1"}}, story, cycle)
    assert mentions({"result": {"cycle_ids": ["cycle-1", "cycle-2"]}}, story, cycle)
    assert not mentions({"story_id": ["story-1"], "result": "story-1"}, story, cycle)
    assert not mentions({"story_id": "story-2"}, story, cycle)


def test_is_tdd_event() -> None:
    assert is_tdd_event("tdd pause", {}, tools=False)
    assert is_tdd_event("phase passed", {"cycle_id": "c"}, tools=False)
    assert not is_tdd_event("sprint start", {}, tools=False)
    assert not is_tdd_event("tool", {"cycle_id": "c"}, tools=False)
    assert is_tdd_event("tool", {}, tools=True)


@pytest.mark.parametrize("status", list(CycleStatus))
def test_every_refusal_names_the_cycle_state_and_what_fits(status: CycleStatus) -> None:
    cycle = make_cycle(status)
    fitting = commands_for(cycle)
    assert {"tdd status", "tdd logs"} <= set(fitting)
    for command in STEERING:
        assert fits(command, cycle) is (command in fitting)
        if not fits(command, cycle):
            message = refusal(command, cycle)
            assert f"/{command}" in message
            assert f"it is {status.value} in DESIGN" in message
    assert ("tdd start" in fitting) is (status in (CycleStatus.DONE, CycleStatus.ABORTED))
