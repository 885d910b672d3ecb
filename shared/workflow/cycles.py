"""TDD cycles in Redis: start one per story, hand a phase to one job at a time (fenced), and
apply the phase's recorded outcome: advance, retry, block, or finish the story.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shared.agents.roles import ROLE_BY_PHASE
from shared.domain.budgets import BudgetCaps
from shared.domain.evidence import Outcome, PhaseEvidence
from shared.domain.models import (
    ApprovalKind,
    Project,
    ProjectStatus,
    ScrumState,
    Story,
    StoryStatus,
    new_id,
)
from shared.domain.tdd import MAX_ATTEMPTS, NEXT_PHASE, CycleStatus, TDDCycle
from shared.jobs.specs import JobSpec, phase_job, schedule_job
from shared.platform.errors import AppError, InvalidTransition
from shared.state import keys, timeline
from shared.state.timeline import TimelineEvent
from shared.workflow import budgets, context_store, merging, system
from shared.workflow.repo import require, require_story

if TYPE_CHECKING:
    from shared.state.store import Store, Transaction

__all__ = [
    "FencedOut",
    "PhaseOutcome",
    "abort_in",
    "approve_result_in",
    "create",
    "cycle_key",
    "give_back",
    "hand_over",
    "pending_ref",
    "record",
    "reject_result_in",
    "requeue",
    "requeue_in",
    "start_in",
    "take",
]

ACTOR = "orchestrator"


class FencedOut(AppError):
    """A newer job took this cycle; this job's writes are refused."""

    status_code = 409
    error_type = "fenced_out"


@dataclass
class PhaseOutcome:
    evidence: PhaseEvidence
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    head_sha: str | None = None
    red_test_ids: list[str] = field(default_factory=list)
    test_file_digests: dict[str, str] | None = None
    design_note_path: str | None = None
    acceptance_criteria: list[str] | None = None
    pending_sha: str | None = None  # blocking mode: parked for a human, not pushed


def cycle_key(project_id: str, cycle_id: str) -> str:
    return keys.entity(project_id, "cycle", cycle_id)


async def create(store: Store, project_id: str, story_id: str) -> JobSpec | None:
    """Start a cycle for a planned story; None when it already has one."""

    async def body(tx: Transaction) -> JobSpec | None:
        story = await require_story(tx, project_id, story_id)
        if story.tdd_cycle_id or story.status is not StoryStatus.SPRINT:
            return None
        cycle = start_in(tx, story)
        _event(tx, project_id, "tdd start", {"story_id": story_id, "cycle_id": cycle.id})
        return phase_job(project_id, cycle.id, cycle.phase.value, cycle.run)

    return await store.atomic(body)


def start_in(tx: Transaction, story: Story) -> TDDCycle:
    """Write a new cycle for `story` (at DESIGN, run 1) and link the story to it, in progress.

    The caller checks that the story may start and records the timeline event."""
    cycle = TDDCycle(
        id=new_id("cycle"),
        project_id=story.project_id,
        story_id=story.id,
        branch=f"awf/{story.id}",
        run=1,
    )
    stored = tx.put(cycle_key(story.project_id, cycle.id), cycle)
    tx.put(
        keys.entity(story.project_id, "story", story.id),
        story.touched(status=StoryStatus.IN_PROGRESS, tdd_cycle_id=cycle.id),
    )
    return stored


async def take(store: Store, project_id: str, cycle_id: str, run: int) -> TDDCycle | None:
    """Give this job (run) the cycle with a fresh fencing token; None when it is not its turn."""

    async def body(tx: Transaction) -> TDDCycle | None:
        cycle = await require(tx, TDDCycle, cycle_key(project_id, cycle_id), f"Cycle {cycle_id}")
        project = await require(tx, Project, keys.project(project_id), f"Project {project_id}")
        if cycle.run != run or cycle.status is not CycleStatus.QUEUED or not _runnable(project):
            return None
        fence = int(await tx.reader.incr(keys.fence(project_id)))
        attempts = {**cycle.attempts, cycle.phase.value: cycle.attempt() + 1}
        taken = cycle.touched(status=CycleStatus.RUNNING, fence=fence, attempts=attempts)
        stored = tx.put(cycle_key(project_id, cycle_id), taken)
        _event(
            tx,
            project_id,
            "phase started",
            {
                "cycle_id": cycle_id,
                "story_id": cycle.story_id,
                "phase": cycle.phase.value,
                "attempt": attempts[cycle.phase.value],
                "run": run,
            },
        )
        return stored

    return await store.atomic(body)


async def record(
    store: Store, cycle: TDDCycle, outcome: PhaseOutcome, caps: BudgetCaps | None = None
) -> list[JobSpec]:
    """Apply a phase's evidence under the job's fence; returns the jobs to enqueue next.

    A cycle paused (/tdd pause) while this job ran keeps the result but does not move on; one
    that crossed a budget cap is held before its next run until a human decides."""

    async def body(tx: Transaction) -> list[JobSpec]:
        current = await require(tx, TDDCycle, cycle_key(cycle.project_id, cycle.id), "Cycle")
        if _paused_under(current, cycle):
            return await _record_paused(tx, _with_outcome(current, outcome), outcome)
        if current.fence != cycle.fence or current.status is not CycleStatus.RUNNING:
            raise FencedOut(f"Cycle {cycle.id} was taken by a newer job; result discarded.")
        updated = _with_outcome(current, outcome)
        hold = await budgets.charge_in(tx, updated, outcome.cost_usd, caps)
        if outcome.evidence.gate_passed and outcome.pending_sha:
            return await _await_approval(tx, updated, outcome)
        if outcome.evidence.gate_passed:
            return await _advance(tx, updated, outcome, hold)
        return await _refused(tx, updated, outcome.evidence.gate_reason, hold)

    return await store.atomic(body)


async def give_back(store: Store, cycle: TDDCycle) -> None:
    """Return a taken phase untouched (the provider was unavailable): not the agent's attempt."""

    async def body(tx: Transaction) -> None:
        current = await tx.get(TDDCycle, cycle_key(cycle.project_id, cycle.id))
        if current is None or not _still_taken_by(current, cycle):
            return  # aborted, blocked or retaken meanwhile: nothing of this job's to return
        tx.put(cycle_key(cycle.project_id, cycle.id), _given_back(current, cycle))

    await store.atomic(body)


async def hand_over(store: Store, cycle: TDDCycle, reason: str) -> JobSpec | None:
    """Give a taken phase to a new job at once (this worker is stopping): not the agent's
    attempt, the same phase under the next run. None when the cycle is no longer this job's,
    or was paused meanwhile (/tdd resume queues it)."""

    async def body(tx: Transaction) -> JobSpec | None:
        current = await tx.get(TDDCycle, cycle_key(cycle.project_id, cycle.id))
        if current is None or not _still_taken_by(current, cycle):
            return None
        queued = tx.put(
            cycle_key(cycle.project_id, cycle.id), _given_back(current, cycle, run=current.run + 1)
        )
        if queued.status is not CycleStatus.QUEUED:
            return None
        payload: dict[str, Any] = {"cycle_id": cycle.id, "story_id": cycle.story_id}
        payload |= {"phase": cycle.phase.value, "run": queued.run, "reason": reason}
        _event(tx, cycle.project_id, "phase handed over", payload)
        return phase_job(cycle.project_id, cycle.id, queued.phase.value, queued.run)

    return await store.atomic(body)


def _given_back(current: TDDCycle, job: TDDCycle, **changes: Any) -> TDDCycle:
    """``current`` as it was before ``job`` took it: queued again, the attempt not counted."""
    attempts = {**current.attempts, current.phase.value: max(0, current.attempt() - 1)}
    if _paused_under(current, job):  # stays paused; /tdd resume queues the phase
        return current.touched(attempts=attempts, paused_from=CycleStatus.QUEUED)
    return current.touched(status=CycleStatus.QUEUED, attempts=attempts, **changes)


async def requeue(
    store: Store,
    project_id: str,
    cycle_id: str,
    *,
    hint: str | None = None,
    reset_attempts: bool = False,
) -> JobSpec | None:
    """Hand the cycle's current phase to a new job (orphan, resume or /suggest_fix)."""

    async def body(tx: Transaction) -> JobSpec | None:
        return await requeue_in(tx, project_id, cycle_id, hint=hint, reset_attempts=reset_attempts)

    return await store.atomic(body)


async def requeue_in(
    tx: Transaction,
    project_id: str,
    cycle_id: str,
    *,
    hint: str | None = None,
    reset_attempts: bool = False,
) -> JobSpec | None:
    cycle = await tx.get(TDDCycle, cycle_key(project_id, cycle_id))
    if cycle is None or cycle.status in (CycleStatus.DONE, CycleStatus.ABORTED):
        return None
    attempts = {**cycle.attempts, cycle.phase.value: 0} if reset_attempts else cycle.attempts
    changes: dict[str, Any] = {
        "status": CycleStatus.QUEUED,
        "run": cycle.run + 1,
        "attempts": attempts,
        "waiting_for": None,
        "budget_hold": None,
        "paused_from": None,
    }
    if hint is not None:
        changes["hint"] = hint
    queued = tx.put(cycle_key(project_id, cycle_id), cycle.touched(**changes))
    return phase_job(project_id, cycle_id, queued.phase.value, queued.run)


async def abort_in(tx: Transaction, project_id: str, cycle_id: str | None) -> None:
    """End a story's cycle for good (/skip_task); its branch stays for the record."""
    cycle = await tx.get(TDDCycle, cycle_key(project_id, cycle_id)) if cycle_id else None
    if cycle is None or cycle.status in (CycleStatus.DONE, CycleStatus.ABORTED):
        return
    tx.put(cycle_key(project_id, cycle.id), cycle.touched(status=CycleStatus.ABORTED))
    _event(tx, project_id, "tdd abort", {"cycle_id": cycle.id, "story_id": cycle.story_id})


def _still_taken_by(current: TDDCycle, job: TDDCycle) -> bool:
    """The phase is still the job's: running under its fence, or paused while it ran."""
    running = current.status is CycleStatus.RUNNING and current.fence == job.fence
    return running or _paused_under(current, job)


def _paused_under(current: TDDCycle, job: TDDCycle) -> bool:
    """Paused (/tdd pause) while this job ran the phase: its result is still its own to record."""
    return (
        current.status is CycleStatus.PAUSED
        and current.paused_from is CycleStatus.RUNNING
        and current.fence == job.fence
    )


async def _record_paused(tx: Transaction, cycle: TDDCycle, outcome: PhaseOutcome) -> list[JobSpec]:
    """Keep a paused cycle's last result without moving on: a pass moves the phase pointer (its
    commit is already pushed), a refusal is given back (pausing never blocks a story). The cycle
    stays paused with no job; /tdd resume queues its current phase."""
    nxt = NEXT_PHASE[cycle.phase]
    if outcome.evidence.gate_passed and nxt is None:  # the story is done: nothing left to pause
        return await _advance(tx, cycle.touched(paused_from=None), outcome)
    pid = cycle.project_id
    summary = {**_summary(cycle, outcome.evidence), "paused": True}
    if outcome.evidence.gate_passed and nxt is not None:
        await _apply_criteria(tx, cycle, outcome)
        _event(tx, pid, "phase passed", summary)
        kept = cycle.touched(phase=nxt, hint=None, paused_from=CycleStatus.QUEUED)
    else:
        reason = outcome.evidence.gate_reason
        _event(tx, pid, "phase refused", {**summary, "reason": reason})
        attempts = {**cycle.attempts, cycle.phase.value: max(0, cycle.attempt() - 1)}
        kept = cycle.touched(attempts=attempts, last_refusal=reason, paused_from=CycleStatus.QUEUED)
    tx.put(cycle_key(pid, cycle.id), kept)
    return []


def _runnable(project: Project) -> bool:
    return project.status is ProjectStatus.ACTIVE and project.state is ScrumState.SPRINT_ACTIVE


def _with_outcome(cycle: TDDCycle, outcome: PhaseOutcome) -> TDDCycle:
    changes: dict[str, Any] = {
        "evidence": cycle.with_evidence(outcome.evidence),
        "input_tokens": cycle.input_tokens + outcome.input_tokens,
        "output_tokens": cycle.output_tokens + outcome.output_tokens,
        "cost_usd": round(cycle.cost_usd + outcome.cost_usd, 6),
        "test_runs": cycle.test_runs + (1 if outcome.evidence.test_run else 0),
        "approved_sha": None,  # applied by the job that recorded this outcome
    }
    if outcome.evidence.gate_passed:
        changes.update(_passed_fields(outcome))
    return cycle.touched(**changes)


def _passed_fields(outcome: PhaseOutcome) -> dict[str, Any]:
    fields: dict[str, Any] = {"last_refusal": None}
    if outcome.head_sha:
        fields["head_sha"] = outcome.head_sha
    if outcome.red_test_ids:
        fields["red_test_ids"] = outcome.red_test_ids
    if outcome.test_file_digests is not None:
        fields["test_file_digests"] = outcome.test_file_digests
    if outcome.design_note_path:
        fields["design_note_path"] = outcome.design_note_path
    return fields


async def _advance(
    tx: Transaction, cycle: TDDCycle, outcome: PhaseOutcome, hold: budgets.Hold | None = None
) -> list[JobSpec]:
    pid = cycle.project_id
    await _apply_criteria(tx, cycle, outcome)
    nxt = NEXT_PHASE[cycle.phase]
    _event(tx, pid, "phase passed", _summary(cycle, outcome.evidence))
    if nxt is None:
        tx.put(cycle_key(pid, cycle.id), cycle.touched(status=CycleStatus.DONE, hint=None))
        project = await system.complete_in(tx, pid, cycle.story_id)
        merge = await merging.after_done_in(tx, project, cycle)
        return [schedule_job(pid, f"done-{cycle.id}"), *merge]
    moved = cycle.touched(phase=nxt, status=CycleStatus.QUEUED, run=cycle.run + 1, hint=None)
    return await _queue_next(tx, moved, hold)


async def _queue_next(tx: Transaction, moved: TDDCycle, hold: budgets.Hold | None) -> list[JobSpec]:
    """A job for the cycle's next run, or, past a budget cap, a hold for a human."""
    if hold is not None:
        await budgets.hold_in(tx, moved, hold)
        return []
    tx.put(cycle_key(moved.project_id, moved.id), moved)
    return [phase_job(moved.project_id, moved.id, moved.phase.value, moved.run)]


def pending_ref(story_id: str) -> str:
    """Where a blocking-mode result waits on the remote: outside every branch."""
    return f"refs/awf/pending/{story_id}"


async def _await_approval(tx: Transaction, cycle: TDDCycle, outcome: PhaseOutcome) -> list[JobSpec]:
    pid, phase = cycle.project_id, cycle.phase.value
    await _apply_criteria(tx, cycle, outcome)
    summary = (
        f"{phase} of {cycle.story_id} passed its gate: {outcome.evidence.gate_reason} "
        f"Approve to apply it to {cycle.branch} and go on; reject with a reason to have the "
        "agent try again."
    )
    approval = await system.request_approval_in(
        tx, pid, ApprovalKind.PHASE_RESULT, cycle.id, summary[:2_000]
    )
    waiting = cycle.touched(
        status=CycleStatus.WAITING, waiting_for="approval", pending_sha=outcome.pending_sha
    )
    tx.put(cycle_key(pid, cycle.id), waiting)
    payload = {**_summary(cycle, outcome.evidence), "approval_id": approval.id}
    _event(tx, pid, "phase awaiting approval", payload)
    return []


async def approve_result_in(tx: Transaction, project_id: str, cycle_id: str, actor: str) -> JobSpec:
    """A human approved a parked result: the next phase's job applies it, then goes on."""
    cycle = await _parked(tx, project_id, cycle_id)
    nxt = NEXT_PHASE[cycle.phase]
    if nxt is None:  # COMMIT is checked by the orchestrator alone and is never parked
        raise InvalidTransition(f"Cycle {cycle_id} has no phase after {cycle.phase.value}.")
    _event(
        tx,
        project_id,
        "phase passed",
        {**_summary(cycle, cycle.evidence[-1]), "approved_by": actor},
    )
    moved = cycle.touched(
        phase=nxt,
        status=CycleStatus.QUEUED,
        run=cycle.run + 1,
        hint=None,
        waiting_for=None,
        approved_sha=cycle.pending_sha,
        pending_sha=None,
    )
    tx.put(cycle_key(project_id, cycle.id), moved)
    return phase_job(project_id, cycle.id, nxt.value, moved.run)


async def reject_result_in(
    tx: Transaction, project_id: str, cycle_id: str, actor: str, reason: str
) -> list[JobSpec]:
    """A human rejected a parked result: a refused attempt, with their reason as the refusal."""
    cycle = await _parked(tx, project_id, cycle_id)
    why = f"Rejected by {actor}: {reason or 'no reason given'}"
    refused = cycle.evidence[-1].model_copy(update={"gate_passed": False, "gate_reason": why})
    cycle = cycle.touched(evidence=cycle.with_evidence(refused), pending_sha=None, waiting_for=None)
    return await _refused(tx, cycle, why)


async def _parked(tx: Transaction, project_id: str, cycle_id: str) -> TDDCycle:
    cycle = await require(tx, TDDCycle, cycle_key(project_id, cycle_id), "Cycle")
    if cycle.status is not CycleStatus.WAITING or not cycle.pending_sha:
        raise InvalidTransition(
            f"Cycle {cycle_id} has no phase result waiting for approval "
            f"(it is {cycle.status.value} in {cycle.phase.value})."
        )
    return cycle


async def _apply_criteria(tx: Transaction, cycle: TDDCycle, outcome: PhaseOutcome) -> None:
    if outcome.acceptance_criteria:
        story = await require_story(tx, cycle.project_id, cycle.story_id)
        tx.put(
            keys.entity(cycle.project_id, "story", story.id),
            story.touched(acceptance_criteria=outcome.acceptance_criteria),
        )


async def _refused(
    tx: Transaction, cycle: TDDCycle, reason: str, hold: budgets.Hold | None = None
) -> list[JobSpec]:
    pid = cycle.project_id
    _event(tx, pid, "phase refused", {**_summary(cycle, cycle.evidence[-1]), "reason": reason})
    role = ROLE_BY_PHASE.get(cycle.phase)
    if role is not None:  # the agent of this role sees why its work was refused next time
        context_store.remember_in(
            tx, pid, role.value, f"{cycle.story_id} {cycle.phase.value}: {reason}"
        )
    if cycle.attempt() >= MAX_ATTEMPTS and not await _can_block(tx, pid):
        # paused or already blocked: the story's last attempt runs again once the sprint does
        waiting = cycle.touched(
            status=CycleStatus.WAITING, waiting_for="sprint", last_refusal=reason
        )
        tx.put(cycle_key(pid, cycle.id), waiting)
        return []
    if cycle.attempt() >= MAX_ATTEMPTS:
        tx.put(
            cycle_key(pid, cycle.id), cycle.touched(status=CycleStatus.BLOCKED, last_refusal=reason)
        )
        blocked = f"{cycle.phase.value} refused {MAX_ATTEMPTS} times: {reason}"
        await system.block_in(tx, pid, cycle.story_id, blocked[:1_000])
        return []
    retry = cycle.touched(status=CycleStatus.QUEUED, run=cycle.run + 1, last_refusal=reason)
    return await _queue_next(tx, retry, hold)


async def _can_block(tx: Transaction, project_id: str) -> bool:
    project = await tx.get(Project, keys.project(project_id))
    return project is not None and project.state is ScrumState.SPRINT_ACTIVE


def _summary(cycle: TDDCycle, evidence: PhaseEvidence) -> dict[str, Any]:
    run = evidence.test_run
    return {
        "cycle_id": cycle.id,
        "story_id": cycle.story_id,
        "phase": cycle.phase.value,
        "attempt": evidence.attempt,
        "gate": evidence.gate_reason,
        "commit": evidence.commit_sha,
        "exit_code": run.exit_code if run else None,
        "passed": len(run.ids(Outcome.PASSED)) if run else None,
        "failed": (len(run.tests) - len(run.ids(Outcome.PASSED))) if run else None,
    }


def _event(tx: Transaction, project_id: str, command: str, payload: dict[str, Any]) -> None:
    timeline.append(tx, project_id, TimelineEvent(actor=ACTOR, command=command, payload=payload))
