"""Human steering of a TDD cycle inside a command's transaction: pause, resume, abort, skip a
phase, re-run a phase. Each writes the cycle, records a cycle event naming who did it, and
returns the job to enqueue, if any. Whether the command may act on the cycle is the caller's
check (`shared.domain.tdd_steering`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.domain.models import Approval, ApprovalKind, ApprovalStatus, StoryStatus, utcnow
from shared.domain.tdd import NEXT_PHASE, CycleStatus, PhaseSkip, TDDCycle
from shared.domain.tdd_steering import parked
from shared.jobs.specs import JobSpec, phase_job
from shared.state import keys, slots
from shared.state.timeline import TimelineEvent
from shared.workflow import cycles
from shared.workflow.repo import require_story

if TYPE_CHECKING:
    from shared.state.store import Transaction

__all__ = ["abort", "cycle_event", "job_holds", "pause", "rerun", "resume", "skip"]


def cycle_event(actor: str, command: str, cycle: TDDCycle, **extra: Any) -> TimelineEvent:
    payload = {"cycle_id": cycle.id, "story_id": cycle.story_id, "phase": cycle.phase.value}
    return TimelineEvent(actor=actor, command=command, payload=payload | extra)


async def job_holds(tx: Transaction, cycle: TDDCycle) -> bool:
    """Whether a worker still holds the cycle's lease, i.e. its job is still running."""
    holder = slots.cycle_holder(cycle.id, cycle.run)
    expiry = await tx.reader.zscore(keys.slots(cycle.project_id), holder)
    if expiry is None:
        return False
    seconds, micros = await tx.reader.time()
    now_ms = int(seconds) * 1_000 + int(micros) // 1_000
    return float(expiry) > now_ms


def pause(tx: Transaction, cycle: TDDCycle, actor: str) -> TimelineEvent:
    """No job takes a paused cycle; a running job records its attempt without moving on."""
    tx.put(
        cycles.cycle_key(cycle.project_id, cycle.id),
        cycle.touched(status=CycleStatus.PAUSED, paused_from=cycle.status),
    )
    return cycle_event(actor, "cycle paused", cycle, was=cycle.status.value)


async def resume(
    tx: Transaction, cycle: TDDCycle, actor: str
) -> tuple[TimelineEvent, JobSpec | None]:
    """Paused while its job still runs: the job simply goes on. Paused with a result parked for
    a human: it waits for /approve or /reject again. Otherwise queue the phase."""
    pid = cycle.project_id
    if cycle.paused_from is CycleStatus.RUNNING and await job_holds(tx, cycle):
        tx.put(
            cycles.cycle_key(pid, cycle.id),
            cycle.touched(status=CycleStatus.RUNNING, paused_from=None),
        )
        return cycle_event(actor, "cycle resumed", cycle, job="running"), None
    if parked(cycle):
        waiting = cycle.touched(status=CycleStatus.WAITING, paused_from=None)
        tx.put(cycles.cycle_key(pid, cycle.id), waiting)
        return cycle_event(actor, "cycle resumed", cycle, job="awaiting approval"), None
    queued = tx.put(
        cycles.cycle_key(pid, cycle.id),
        cycle.touched(
            status=CycleStatus.QUEUED, run=cycle.run + 1, paused_from=None, waiting_for=None
        ),
    )
    job = phase_job(pid, cycle.id, queued.phase.value, queued.run)
    return cycle_event(actor, "cycle resumed", cycle, job="queued", run=queued.run), job


async def abort(tx: Transaction, cycle: TDDCycle, actor: str) -> TimelineEvent:
    """End the cycle; the story goes back to waiting in the sprint, still linked to the aborted
    cycle so the scheduler leaves it alone until /tdd start."""
    pid = cycle.project_id
    story = await require_story(tx, pid, cycle.story_id)
    if parked(cycle):
        await _drop_parked_result(tx, cycle, actor)
    ended = cycle.touched(
        status=CycleStatus.ABORTED,
        paused_from=None,
        waiting_for=None,
        pending_sha=None,
        completed_at=utcnow(),
    )
    tx.put(cycles.cycle_key(pid, cycle.id), ended)
    tx.put(keys.entity(pid, "story", story.id), story.touched(status=StoryStatus.SPRINT))
    return cycle_event(actor, "cycle aborted", cycle, was=cycle.status.value)


async def _drop_parked_result(tx: Transaction, cycle: TDDCycle, actor: str) -> None:
    """The pending approval of the cycle's parked result is rejected: the cycle ended."""
    pid = cycle.project_id
    pending = keys.index(pid, "approvals:pending")
    ids: list[str] = await tx.reader.zrange(pending, 0, -1)
    found = await tx.get_many(Approval, [keys.entity(pid, "approval", i) for i in ids])
    done: list[str] = []
    for approval in found:
        if approval is None or approval.kind is not ApprovalKind.PHASE_RESULT:
            continue
        if approval.subject_id != cycle.id or approval.status is not ApprovalStatus.PENDING:
            continue
        done.append(approval.id)
        decided = approval.touched(
            status=ApprovalStatus.REJECTED,
            decided_by=actor,
            decided_at=utcnow(),
            reason="The cycle was aborted.",
        )
        tx.put(keys.entity(pid, "approval", approval.id), decided)
    if done:
        tx.call(lambda p: p.zrem(pending, *done))


def skip(
    tx: Transaction, cycle: TDDCycle, actor: str, justification: str
) -> tuple[TDDCycle, TimelineEvent, JobSpec | None]:
    """Move past the current phase without its gate. A paused cycle stays paused at the next
    phase; a queued one gets a job for it. Skipping COMMIT finishes the cycle (the caller
    finishes the story)."""
    pid = cycle.project_id
    record = PhaseSkip(phase=cycle.phase.value, by=actor, justification=justification)
    event = cycle_event(actor, "phase skipped", cycle, justification=justification)
    changes: dict[str, Any] = {
        "skips": [*cycle.skips, record],
        "hint": None,
        "last_refusal": None,
        "waiting_for": None,  # it waited for the sprint to run this phase again
    }
    nxt = NEXT_PHASE[cycle.phase]
    if nxt is None:
        changes |= {"status": CycleStatus.DONE, "paused_from": None, "completed_at": utcnow()}
        return tx.put(cycles.cycle_key(pid, cycle.id), cycle.touched(**changes)), event, None
    if cycle.status is CycleStatus.PAUSED:
        changes |= {"phase": nxt, "paused_from": CycleStatus.QUEUED}
        return tx.put(cycles.cycle_key(pid, cycle.id), cycle.touched(**changes)), event, None
    changes |= {"phase": nxt, "status": CycleStatus.QUEUED, "run": cycle.run + 1}
    moved = tx.put(cycles.cycle_key(pid, cycle.id), cycle.touched(**changes))
    return moved, event, phase_job(pid, cycle.id, nxt.value, moved.run)


async def rerun(tx: Transaction, cycle: TDDCycle, actor: str) -> tuple[TimelineEvent, JobSpec]:
    """A fresh job for the current phase; the queued one finds it is no longer its turn."""
    job = await cycles.requeue_in(tx, cycle.project_id, cycle.id)
    if job is None:
        raise RuntimeError(f"cycle {cycle.id} is {cycle.status.value}; the caller checks it")
    return cycle_event(actor, "phase rerun", cycle, run=job.kwargs["run"]), job
