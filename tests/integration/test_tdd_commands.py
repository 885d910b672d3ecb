"""The /tdd steering commands through `execute` on real Redis, with the worker's side of a
phase (take, record, give back) called as the phase job calls it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shared.domain.models import (
    Approval,
    ApprovalStatus,
    ScrumState,
    Sprint,
    SprintStatus,
    StoryStatus,
)
from shared.domain.phases import Phase
from shared.domain.tdd import CycleStatus, TDDCycle
from shared.platform.errors import BadRequest, Forbidden, InvalidTransition, NotFound
from shared.state import keys, slots
from shared.workflow import cycles
from shared.workflow.cycles import FencedOut, PhaseOutcome
from shared.workflow.system import block_story, complete_story
from tests.factories import (
    APPROVER,
    MEMBER,
    VIEWER,
    backlog_ids,
    dump_project,
    get_project,
    make_project_in_state,
    run,
    timeline_events,
)
from tests.integration.tdd_helpers import (
    cycle,
    cycle_of,
    evidence,
    outcome,
    phase_jobs,
    skip,
    sprint_with_cycles,
    story,
    take_current,
)

if TYPE_CHECKING:
    from shared.state.store import Store, Transaction

pytestmark = pytest.mark.integration


# --- /tdd start --------------------------------------------------------------------------


async def test_start_creates_a_cycle_and_its_first_phase_job(store: Store) -> None:
    pid, (first, _) = await sprint_with_cycles(store, started=0)
    started = await run(store, "tdd start", {"story_id": first}, project_id=pid, actor=MEMBER)

    assert started.status_code == 201
    made = await cycle_of(store, pid, first)
    assert (made.phase, made.status, made.run) == (Phase.DESIGN, CycleStatus.QUEUED, 1)
    assert (await story(store, pid, first)).status is StoryStatus.IN_PROGRESS
    assert phase_jobs(started.jobs) == [(made.id, 1)]
    own, created = (await timeline_events(store, pid))[-2:]
    assert (own.actor, own.command) == (MEMBER.name, "tdd start")
    assert created.command == "tdd start"  # the cycle record sprint metrics fold
    assert created.payload["story_id"] == first
    assert created.payload["cycle_id"] == made.id


async def test_start_refuses_a_story_that_already_has_a_live_cycle(store: Store) -> None:
    pid, (first, _) = await sprint_with_cycles(store)
    with pytest.raises(InvalidTransition) as refused:
        await run(store, "tdd start", {"story_id": first}, project_id=pid)
    message = refused.value.message
    assert "already has cycle" in message
    assert "queued in DESIGN" in message
    assert refused.value.details["state"] == "SPRINT_ACTIVE"
    assert refused.value.details["cycle_status"] == "queued"
    assert "tdd pause" in refused.value.details["allowed_commands"]


async def test_start_refuses_stories_outside_the_sprint(store: Store) -> None:
    pid, _ = await sprint_with_cycles(store, started=0)
    outside = (await backlog_ids(store, pid))[0]
    with pytest.raises(InvalidTransition, match="not in the current sprint"):
        await run(store, "tdd start", {"story_id": outside}, project_id=pid)
    with pytest.raises(NotFound, match="story-0000000f"):
        await run(store, "tdd start", {"story_id": "story-0000000f"}, project_id=pid)


async def test_start_needs_a_running_sprint(store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.SPRINT_PLANNED)
    with pytest.raises(InvalidTransition) as refused:
        await run(store, "tdd start", {"story_id": "story-0000000f"}, project_id=pid)
    assert "Start it with /sprint start" in refused.value.message
    assert refused.value.details["state"] == "SPRINT_PLANNED"


# --- /tdd pause and /tdd resume -----------------------------------------------------------


async def test_a_paused_queued_cycle_is_not_taken_until_resumed(store: Store) -> None:
    pid, (first, _) = await sprint_with_cycles(store)
    queued = await cycle_of(store, pid, first)
    paused = await run(store, "tdd pause", {}, project_id=pid, actor=MEMBER)

    assert paused.result["story_id"] == first
    assert await cycles.take(store, pid, queued.id, queued.run) is None
    assert (await cycle(store, pid, queued.id)).status is CycleStatus.PAUSED

    resumed = await run(store, "tdd resume", {"story_id": first}, project_id=pid, actor=MEMBER)
    assert phase_jobs(resumed.jobs) == [(queued.id, queued.run + 1)]
    assert await cycles.take(store, pid, queued.id, queued.run + 1) is not None


async def test_a_running_phase_that_passes_while_paused_records_without_moving_on(
    store: Store,
) -> None:
    pid, (first, _) = await sprint_with_cycles(store)
    taken = await take_current(store, pid, first)
    await run(store, "tdd pause", {"story_id": first}, project_id=pid)

    assert await cycles.record(store, taken, outcome(taken, passed=True)) == []
    kept = await cycle(store, pid, taken.id)
    assert (kept.status, kept.phase) == (CycleStatus.PAUSED, Phase.TEST_RED)
    assert kept.paused_from is CycleStatus.QUEUED
    assert kept.evidence[-1].gate_passed
    passed = (await timeline_events(store, pid))[-1]
    assert (passed.command, passed.payload["paused"]) == ("phase passed", True)

    resumed = await run(store, "tdd resume", {"story_id": first}, project_id=pid)
    assert phase_jobs(resumed.jobs) == [(taken.id, kept.run + 1)]
    assert (await cycle(store, pid, taken.id)).status is CycleStatus.QUEUED


async def test_a_refusal_while_paused_is_given_back(store: Store) -> None:
    pid, (first, _) = await sprint_with_cycles(store)
    taken = await take_current(store, pid, first)
    await run(store, "tdd pause", {"story_id": first}, project_id=pid)

    assert await cycles.record(store, taken, outcome(taken, passed=False)) == []
    kept = await cycle(store, pid, taken.id)
    assert (kept.status, kept.phase) == (CycleStatus.PAUSED, Phase.DESIGN)
    assert kept.attempt() == 0  # pausing never spends an attempt
    assert kept.last_refusal == "The RED tests must pass now."


async def test_a_provider_give_back_while_paused_stays_paused(store: Store) -> None:
    pid, (first, _) = await sprint_with_cycles(store)
    taken = await take_current(store, pid, first)
    await run(store, "tdd pause", {"story_id": first}, project_id=pid)
    await cycles.give_back(store, taken)
    kept = await cycle(store, pid, taken.id)
    assert (kept.status, kept.attempt()) == (CycleStatus.PAUSED, 0)
    assert await cycles.take(store, pid, taken.id, taken.run) is None


async def test_a_provider_give_back_after_an_abort_leaves_the_cycle_aborted(store: Store) -> None:
    pid, (first, _) = await sprint_with_cycles(store)
    taken = await take_current(store, pid, first)
    await run(store, "tdd abort", {"story_id": first}, project_id=pid)
    await cycles.give_back(store, taken)
    assert (await cycle(store, pid, taken.id)).status is CycleStatus.ABORTED
    assert await cycles.hand_over(store, taken, "draining") is None
    assert (await cycle(store, pid, taken.id)).status is CycleStatus.ABORTED


async def test_resume_before_the_running_job_records_lets_it_carry_on(store: Store) -> None:
    pid, (first, _) = await sprint_with_cycles(store)
    taken = await take_current(store, pid, first)
    await slots.acquire(
        store.redis, keys.slots(pid), slots.cycle_holder(taken.id, taken.run), 60_000, 5
    )  # the job's lease
    await run(store, "tdd pause", {"story_id": first}, project_id=pid)

    resumed = await run(store, "tdd resume", {"story_id": first}, project_id=pid)
    assert resumed.jobs == ()
    assert (await cycle(store, pid, taken.id)).status is CycleStatus.RUNNING
    jobs = await cycles.record(store, taken, outcome(taken, passed=True))
    assert phase_jobs(jobs) == [(taken.id, taken.run + 1)]  # it advanced as usual


async def test_pause_and_resume_refuse_cycles_in_the_wrong_status(store: Store) -> None:
    pid, (first, _) = await sprint_with_cycles(store)
    with pytest.raises(InvalidTransition) as refused:
        await run(store, "tdd resume", {"story_id": first}, project_id=pid)
    assert "it is queued in DESIGN" in refused.value.message
    assert "Allowed for it now: /tdd pause, /tdd abort" in refused.value.message
    await run(store, "tdd pause", {"story_id": first}, project_id=pid)
    with pytest.raises(InvalidTransition, match="Resume it with /tdd resume"):
        await run(store, "tdd pause", {"story_id": first}, project_id=pid)


async def test_without_a_story_the_only_fitting_cycle_is_used(store: Store) -> None:
    pid, story_ids = await sprint_with_cycles(store, started=2)
    with pytest.raises(BadRequest) as ambiguous:
        await run(store, "tdd pause", {}, project_id=pid)
    assert set(ambiguous.value.details["story_ids"]) == set(story_ids)
    assert "Name the story" in ambiguous.value.message
    await run(store, "tdd pause", {"story_id": story_ids[0]}, project_id=pid)
    assert (await run(store, "tdd resume", {}, project_id=pid)).result["story_ids"] == [
        story_ids[0]
    ]


async def test_steering_a_story_without_a_cycle_says_how_to_start_one(store: Store) -> None:
    pid, (_, second) = await sprint_with_cycles(store)
    with pytest.raises(InvalidTransition, match=f"Start one with /tdd start {second}"):
        await run(store, "tdd abort", {"story_id": second}, project_id=pid, actor=APPROVER)


# --- /tdd halt_all ------------------------------------------------------------------------


async def test_halt_all_pauses_every_active_cycle_and_the_sprint(store: Store) -> None:
    pid, (first, second) = await sprint_with_cycles(store, started=2)
    running = await take_current(store, pid, first)
    with pytest.raises(Forbidden):
        await run(store, "tdd halt_all", project_id=pid, actor=MEMBER)

    halted = await run(store, "tdd halt_all", project_id=pid, actor=APPROVER)
    assert halted.to_state == "SPRINT_PAUSED"
    assert set(halted.result["story_ids"]) == {first, second}
    for story_id in (first, second):
        assert (await cycle_of(store, pid, story_id)).status is CycleStatus.PAUSED
    queued = await cycle_of(store, pid, second)
    assert await cycles.take(store, pid, queued.id, queued.run) is None
    assert await cycles.record(store, running, outcome(running, passed=True)) == []
    paused_events = [e for e in await timeline_events(store, pid) if e.command == "cycle paused"]
    assert {e.payload["story_id"] for e in paused_events} == {first, second}
    assert {e.actor for e in paused_events} == {APPROVER.name}

    await run(store, "sprint resume", project_id=pid)
    resumed = await run(store, "tdd resume", {"all": True}, project_id=pid)
    assert len(phase_jobs(resumed.jobs)) == 2
    assert (await get_project(store, pid)).state is ScrumState.SPRINT_ACTIVE


async def test_halt_all_with_nothing_running_still_stops_the_sprint(store: Store) -> None:
    pid, _ = await sprint_with_cycles(store, started=0)
    halted = await run(store, "tdd halt_all", project_id=pid, actor=APPROVER)
    assert halted.result["cycle_ids"] == []
    assert halted.result["sprint_paused"] is True
    project = await get_project(store, pid)
    assert project.active_sprint_id
    sprint = await store.get(Sprint, keys.entity(pid, "sprint", project.active_sprint_id))
    assert sprint is not None
    assert sprint.status is SprintStatus.PAUSED


# --- /tdd abort ---------------------------------------------------------------------------


async def test_abort_ends_the_cycle_and_the_story_waits_for_a_new_start(store: Store) -> None:
    pid, (first, _) = await sprint_with_cycles(store)
    running = await take_current(store, pid, first)
    with pytest.raises(Forbidden):
        await run(store, "tdd abort", {"story_id": first}, project_id=pid, actor=MEMBER)

    aborted = await run(store, "tdd abort", {"story_id": first}, project_id=pid, actor=APPROVER)
    assert f"/tdd start {first}" in aborted.result["next"]
    ended = await cycle(store, pid, running.id)
    assert ended.status is CycleStatus.ABORTED
    assert ended.completed_at is not None
    waiting = await story(store, pid, first)
    assert (waiting.status, waiting.tdd_cycle_id) == (StoryStatus.SPRINT, running.id)
    with pytest.raises(FencedOut):
        await cycles.record(store, running, outcome(running, passed=True))

    restarted = await run(store, "tdd start", {"story_id": first}, project_id=pid)
    assert restarted.result["cycle_id"] != running.id
    assert (await cycle_of(store, pid, first)).phase is Phase.DESIGN


async def test_a_blocked_cycle_is_decided_by_suggest_fix_or_skip_task(store: Store) -> None:
    pid, (first, _) = await sprint_with_cycles(store)
    blocked = await cycle_of(store, pid, first)
    await store.atomic(
        lambda tx: _put(tx, pid, blocked.touched(status=CycleStatus.BLOCKED)),
    )
    await block_story(store, pid, first, "three refusals")
    with pytest.raises(InvalidTransition) as refused:
        await run(store, "tdd abort", {"story_id": first}, project_id=pid, actor=APPROVER)
    assert "/suggest_fix or /skip_task" in refused.value.message
    assert refused.value.details["state"] == "BLOCKED"


async def _put(tx: Transaction, pid: str, doc: TDDCycle) -> None:
    tx.put(cycles.cycle_key(pid, doc.id), doc)


# --- /tdd skip_phase ----------------------------------------------------------------------


async def test_skip_phase_moves_on_without_the_gate_and_records_who_and_why(
    store: Store,
) -> None:
    pid, (first, _) = await sprint_with_cycles(store)
    queued = await cycle_of(store, pid, first)
    with pytest.raises(Forbidden):
        await run(
            store,
            "tdd skip_phase",
            {"story_id": first, "justification": "x"},
            project_id=pid,
            actor=MEMBER,
        )

    skipped = await skip(store, pid, first, "Design agreed at planning")
    assert (skipped.result["skipped"], skipped.result["phase"]) == ("DESIGN", "TEST_RED")
    assert phase_jobs(skipped.jobs) == [(queued.id, queued.run + 1)]
    moved = await cycle(store, pid, queued.id)
    assert [(s.phase, s.by) for s in moved.skips] == [("DESIGN", APPROVER.name)]
    own, event = (await timeline_events(store, pid))[-2:]
    assert (own.command, own.payload["args"]["justification"]) == (
        "tdd skip_phase",
        "Design agreed at planning",
    )
    assert (event.actor, event.command) == (APPROVER.name, "phase skipped")
    assert event.payload["justification"] == "Design agreed at planning"
    assert (event.payload["phase"], event.payload["story_id"]) == ("DESIGN", first)


async def test_skip_phase_refuses_while_a_job_runs_the_phase(store: Store) -> None:
    pid, (first, _) = await sprint_with_cycles(store)
    await take_current(store, pid, first)
    with pytest.raises(InvalidTransition) as refused:
        await skip(store, pid, first)
    assert "it is running in DESIGN" in refused.value.message
    assert "tdd pause" in refused.value.details["allowed_commands"]
    assert "tdd skip_phase" not in refused.value.details["allowed_commands"]


async def test_skip_phase_waits_for_a_paused_job_to_record(store: Store) -> None:
    pid, (first, _) = await sprint_with_cycles(store)
    taken = await take_current(store, pid, first)
    await slots.acquire(
        store.redis, keys.slots(pid), slots.cycle_holder(taken.id, taken.run), 60_000, 5
    )
    await run(store, "tdd pause", {"story_id": first}, project_id=pid)
    with pytest.raises(InvalidTransition, match="has not recorded its attempt yet"):
        await skip(store, pid, first)
    await cycles.record(store, taken, outcome(taken, passed=False))
    skipped = await skip(store, pid, first)
    assert skipped.jobs == ()  # still paused, now at TEST_RED
    assert (await cycle(store, pid, taken.id)).phase is Phase.TEST_RED


async def test_skipping_every_phase_finishes_the_story_and_the_sprint(store: Store) -> None:
    pid, (first, second) = await sprint_with_cycles(store)
    await complete_story(store, pid, second)
    results = [(await skip(store, pid, first)).result for _ in Phase]

    assert "warning" in results[1]  # TEST_RED skipped: no RED baseline
    assert results[-1]["story_done"] is True
    done = await cycle_of(store, pid, first)
    assert done.status is CycleStatus.DONE
    assert [s.phase for s in done.skips] == [p.value for p in Phase]
    assert (await story(store, pid, first)).status is StoryStatus.DONE
    assert (await get_project(store, pid)).state is ScrumState.SPRINT_REVIEW
    events = await timeline_events(store, pid)
    assert any(e.command == "story_done" and e.payload["story_id"] == first for e in events)


# --- /tdd run_tests and the manual advance verbs --------------------------------------------


async def test_run_tests_hands_a_queued_phase_to_a_fresh_job(store: Store) -> None:
    pid, (first, _) = await sprint_with_cycles(store)
    queued = await cycle_of(store, pid, first)
    rerun = await run(store, "tdd run_tests", {"story_id": first}, project_id=pid, actor=MEMBER)
    assert phase_jobs(rerun.jobs) == [(queued.id, queued.run + 1)]
    assert await cycles.take(store, pid, queued.id, queued.run) is None  # the old job's turn passed
    await take_current(store, pid, first)
    with pytest.raises(InvalidTransition, match="its gate judges it when it ends"):
        await run(store, "tdd run_tests", {"story_id": first}, project_id=pid)


@pytest.mark.parametrize("verb", ["next", "code", "tests_ready", "commit_tests"])
async def test_manual_advance_verbs_are_refused_with_the_override(store: Store, verb: str) -> None:
    pid, _ = await sprint_with_cycles(store)
    with pytest.raises(InvalidTransition) as refused:
        await run(store, f"tdd {verb}", project_id=pid)
    assert "SPRINT_ACTIVE" in refused.value.message
    assert "/tdd skip_phase" in refused.value.message
    assert "tdd skip_phase" in refused.value.details["allowed_commands"]


async def test_viewers_cannot_steer(store: Store) -> None:
    pid, (first, _) = await sprint_with_cycles(store)
    for name in ("tdd pause", "tdd run_tests", "tdd start"):
        with pytest.raises(Forbidden, match="member role"):
            await run(store, name, {"story_id": first}, project_id=pid, actor=VIEWER)


async def test_a_commit_that_passes_while_paused_still_finishes_the_story(store: Store) -> None:
    pid, (first, _) = await sprint_with_cycles(store)
    for _ in range(4):  # DESIGN .. REFACTOR
        await skip(store, pid, first)
    taken = await take_current(store, pid, first)
    assert taken.phase is Phase.COMMIT
    await run(store, "tdd pause", {"story_id": first}, project_id=pid)
    await cycles.record(store, taken, outcome(taken, passed=True))
    done = await cycle(store, pid, taken.id)
    assert (done.status, done.paused_from) == (CycleStatus.DONE, None)
    assert (await story(store, pid, first)).status is StoryStatus.DONE


# --- a result parked for a human (blocking mode) ------------------------------------------


async def parked_cycle(store: Store) -> tuple[str, str, TDDCycle, str]:
    """A sprint whose first story's DESIGN passed its gate and waits for approval: (project,
    story, cycle, the approval's id)."""
    pid, (first, _) = await sprint_with_cycles(store)
    taken = await take_current(store, pid, first)
    result = PhaseOutcome(evidence=evidence("DESIGN", 1, True), head_sha="a1b", pending_sha="p1b")
    await cycles.record(store, taken, result)
    parked = await cycle_of(store, pid, first)
    assert (parked.status, parked.waiting_for) == (CycleStatus.WAITING, "approval")
    approvals = await store.redis.zrange(keys.index(pid, "approvals:pending"), 0, -1)
    found = [await store.get(Approval, keys.entity(pid, "approval", i)) for i in approvals]
    [approval] = [a for a in found if a and a.subject_id == parked.id]
    return pid, first, parked, approval.id


@pytest.mark.parametrize("name", ["tdd run_tests", "tdd skip_phase"])
async def test_a_parked_result_is_decided_not_rerun_or_skipped(store: Store, name: str) -> None:
    """Once these re-queued it and left its approval pending for good (approving it was then
    refused: no result waiting)."""
    pid, first, parked, approval_id = await parked_cycle(store)
    before = await dump_project(store.redis, pid)
    args = {"story_id": first, "justification": "why not"} if "skip" in name else {}
    with pytest.raises(InvalidTransition) as refused:
        await run(store, name, args | {"story_id": first}, project_id=pid, actor=APPROVER)
    assert "waits for a human: /approve it, or /reject it" in refused.value.message
    assert {"approve", "reject"} <= set(refused.value.details["allowed_commands"])
    assert name not in refused.value.details["allowed_commands"]
    assert await dump_project(store.redis, pid) == before
    approved = await run(store, "approve", {"ids": [approval_id]}, project_id=pid, actor=APPROVER)
    assert approved.result["approved_cycle_ids"] == [parked.id]


async def test_a_paused_parked_result_waits_for_approval_again_on_resume(store: Store) -> None:
    """Resume queued a new run of the phase whose result still waited for approval."""
    pid, first, parked, approval_id = await parked_cycle(store)
    await run(store, "tdd pause", {"story_id": first}, project_id=pid)
    resumed = await run(store, "tdd resume", {"story_id": first}, project_id=pid)
    assert resumed.jobs == ()
    waiting = await cycle(store, pid, parked.id)
    assert (waiting.status, waiting.waiting_for, waiting.paused_from) == (
        CycleStatus.WAITING,
        "approval",
        None,
    )
    approved = await run(store, "approve", {"ids": [approval_id]}, project_id=pid, actor=APPROVER)
    assert approved.result["approved_cycle_ids"] == [parked.id]


async def test_aborting_a_parked_result_rejects_its_approval(store: Store) -> None:
    pid, first, parked, approval_id = await parked_cycle(store)
    await run(store, "tdd abort", {"story_id": first}, project_id=pid, actor=APPROVER)
    ended = await cycle(store, pid, parked.id)
    assert (ended.status, ended.waiting_for, ended.pending_sha) == (CycleStatus.ABORTED, None, None)
    approval = await store.get(Approval, keys.entity(pid, "approval", approval_id))
    assert approval is not None
    assert (approval.status, approval.decided_by) == (ApprovalStatus.REJECTED, APPROVER.name)
    pending = await store.redis.zrange(keys.index(pid, "approvals:pending"), 0, -1)
    assert approval_id not in pending


async def test_resuming_a_cycle_that_waited_for_the_sprint_clears_the_wait(store: Store) -> None:
    """Resume queued it but kept `waiting_for="sprint"` on the queued cycle."""
    pid, (first, _) = await sprint_with_cycles(store)
    for _ in range(3):  # three refusals; the sprint is paused before the third is recorded
        taken = await take_current(store, pid, first)
        if taken.attempt() == 3:
            await run(store, "sprint pause", project_id=pid)
        await cycles.record(store, taken, outcome(taken, passed=False))
    waiting = await cycle_of(store, pid, first)
    assert (waiting.status, waiting.waiting_for) == (CycleStatus.WAITING, "sprint")
    await run(store, "tdd pause", {"story_id": first}, project_id=pid)
    await run(store, "tdd resume", {"story_id": first}, project_id=pid)
    queued = await cycle(store, pid, waiting.id)
    assert (queued.status, queued.waiting_for) == (CycleStatus.QUEUED, None)


async def test_the_third_rejected_result_blocks_the_story_and_the_project(store: Store) -> None:
    """The block was written inside /reject's transaction and then overwritten by the project
    the command saved: a blocked story and cycle in a sprint still running, out of reach of
    /suggest_fix and /skip_task."""
    pid, first, parked, approval_id = await parked_cycle(store)
    for attempt in (1, 2, 3):
        if attempt > 1:
            taken = await take_current(store, pid, first)
            result = PhaseOutcome(evidence("DESIGN", attempt, True), head_sha="a", pending_sha="p")
            await cycles.record(store, taken, result)
            approvals = await store.redis.zrange(keys.index(pid, "approvals:pending"), 0, -1)
            approval_id = approvals[-1]
        args = {"ids": [approval_id], "reason": "not like this"}
        rejected = await run(store, "reject", args, project_id=pid, actor=APPROVER)
    assert rejected.to_state == "BLOCKED"
    project = await get_project(store, pid)
    assert (project.state, project.blocked_story_id) == (ScrumState.BLOCKED, first)
    assert (await cycle(store, pid, parked.id)).status is CycleStatus.BLOCKED
    assert (await story(store, pid, first)).status is StoryStatus.BLOCKED
    fixed = await run(store, "suggest_fix", {"description": "x"}, project_id=pid, actor=APPROVER)
    assert fixed.to_state == "SPRINT_ACTIVE"
    assert (await cycle(store, pid, parked.id)).status is CycleStatus.QUEUED


async def test_skipping_a_phase_that_waited_for_the_sprint_clears_the_wait(store: Store) -> None:
    """The skipped cycle was queued at the next phase still marked waiting for the sprint."""
    pid, (first, _) = await sprint_with_cycles(store)
    for _ in range(3):  # three refusals; the sprint is paused before the third is recorded
        taken = await take_current(store, pid, first)
        if taken.attempt() == 3:
            await run(store, "sprint pause", project_id=pid)
        await cycles.record(store, taken, outcome(taken, passed=False))
    assert (await cycle_of(store, pid, first)).waiting_for == "sprint"
    await skip(store, pid, first)
    moved = await cycle_of(store, pid, first)
    assert (moved.phase, moved.status, moved.waiting_for) == (
        Phase.TEST_RED,
        CycleStatus.QUEUED,
        None,
    )
