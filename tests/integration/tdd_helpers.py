"""Helpers of the /tdd command tests: a sprint with cycles, and a worker's side done by hand
(`cycles.take` and `cycles.record`, exactly what the phase job calls)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.domain.evidence import FailureKind, Outcome, PhaseEvidence, TestOutcome, TestRun
from shared.domain.models import ScrumState, Story
from shared.domain.tdd import TDDCycle
from shared.state import keys
from shared.workflow import cycles
from shared.workflow.cycles import PhaseOutcome
from tests.factories import APPROVER, make_project_in_state, run, sprint_story_ids

if TYPE_CHECKING:
    from shared.jobs.specs import JobSpec
    from shared.state.store import Store
    from shared.workflow.context import CommandOutcome

__all__ = [
    "TEST_ID",
    "cycle",
    "cycle_of",
    "evidence",
    "outcome",
    "phase_jobs",
    "skip",
    "sprint_with_cycles",
    "story",
    "take_current",
]

TEST_ID = "tests/test_calc.py::test_add"


async def sprint_with_cycles(
    store: Store, started: int = 1, state: ScrumState = ScrumState.SPRINT_ACTIVE
) -> tuple[str, list[str]]:
    """A project with a two-story sprint; the first `started` stories have a queued cycle."""
    pid = await make_project_in_state(store, state)
    story_ids = await sprint_story_ids(store, pid)
    for story_id in story_ids[:started]:
        await run(store, "tdd start", {"story_id": story_id}, project_id=pid)
    return pid, story_ids


async def story(store: Store, pid: str, story_id: str) -> Story:
    found = await store.get(Story, keys.entity(pid, "story", story_id))
    assert found is not None
    return found


async def cycle(store: Store, pid: str, cycle_id: str) -> TDDCycle:
    found = await store.get(TDDCycle, cycles.cycle_key(pid, cycle_id))
    assert found is not None
    return found


async def cycle_of(store: Store, pid: str, story_id: str) -> TDDCycle:
    linked = (await story(store, pid, story_id)).tdd_cycle_id
    assert linked is not None
    return await cycle(store, pid, linked)


async def take_current(store: Store, pid: str, story_id: str) -> TDDCycle:
    """What a phase job does first: take the cycle at its current run."""
    current = await cycle_of(store, pid, story_id)
    taken = await cycles.take(store, pid, current.id, current.run)
    assert taken is not None
    return taken


def evidence(phase: str, attempt: int, passed: bool, **changes: Any) -> PhaseEvidence:
    test = TestOutcome(
        id=TEST_ID,
        outcome=Outcome.PASSED if passed else Outcome.FAILED,
        kind=None if passed else FailureKind.ASSERTION,
        message="" if passed else "assert 3 == 4",
        duration_s=0.25,
    )
    test_run = TestRun(
        command=["python", "-m", "pytest", "-q"],
        exit_code=0 if passed else 1,
        duration_s=1.5,
        tests=[test],
        output_tail="1 passed" if passed else "AssertionError: assert 3 == 4",
    )
    fields: dict[str, Any] = {
        "phase": phase,
        "attempt": attempt,
        "test_run": test_run,
        "commit_sha": "a1b2c3d" if passed else None,
        "gate_passed": passed,
        "gate_reason": "gate passed" if passed else "The RED tests must pass now.",
    }
    return PhaseEvidence(**(fields | changes))


def outcome(taken: TDDCycle, passed: bool) -> PhaseOutcome:
    return PhaseOutcome(
        evidence=evidence(taken.phase.value, taken.attempt(), passed),
        head_sha="a1b2c3d" if passed else None,
    )


async def skip(store: Store, pid: str, story_id: str, why: str = "agreed") -> CommandOutcome:
    args = {"story_id": story_id, "justification": why}
    return await run(store, "tdd skip_phase", args, project_id=pid, actor=APPROVER)


def phase_jobs(jobs: tuple[JobSpec, ...] | list[JobSpec]) -> list[tuple[str, int]]:
    """(cycle id, run) of every phase job in `jobs`."""
    return [(j.kwargs["cycle_id"], j.kwargs["run"]) for j in jobs if "cycle_id" in j.kwargs]
