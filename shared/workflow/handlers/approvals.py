"""/approve and /reject: deciding proposed stories and, in blocking mode, phase results."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.domain.args import ApproveArgs, RejectArgs
from shared.domain.commands import COMMANDS
from shared.domain.models import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    ScrumState,
    Story,
    StoryStatus,
    utcnow,
)
from shared.domain.scrum import SystemEvent
from shared.domain.tdd import MAX_ATTEMPTS, CycleStatus, TDDCycle
from shared.jobs.specs import merge_job
from shared.platform.errors import AlreadyDecided, InvalidTransition, NotFound
from shared.state import keys
from shared.workflow import budgets, cycles
from shared.workflow.repo import backlog_score, next_sequence

if TYPE_CHECKING:
    from shared.jobs.specs import JobSpec
    from shared.workflow.context import CommandContext

__all__ = ["approve", "reject"]


async def approve(ctx: CommandContext, args: ApproveArgs) -> dict[str, Any]:
    chosen = await _pending_decisions(ctx, args.ids)
    stories, results = _split(chosen)
    for approval in stories:
        story = await _decide(ctx, approval, ApprovalStatus.APPROVED, None)
        if story is not None:
            await _to_backlog(ctx, story)
    for approval in results:
        await _decide(ctx, approval, ApprovalStatus.APPROVED, None)
        pid, actor = ctx.project.id, ctx.actor.name
        ctx.jobs.append(await cycles.approve_result_in(ctx.tx, pid, approval.subject_id, actor))
    for approval in _of(chosen, ApprovalKind.BUDGET):
        await _decide(ctx, approval, ApprovalStatus.APPROVED, None)
        ctx.jobs.extend(await _go_past_budget(ctx, approval.subject_id))
    for approval in _of(chosen, ApprovalKind.MERGE):
        await _decide(ctx, approval, ApprovalStatus.APPROVED, None)
        ctx.jobs.append(merge_job(ctx.project.id, approval.subject_id, approval.id))
    body: dict[str, Any] = {"approved_story_ids": [a.subject_id for a in stories]}
    if results:
        body["approved_cycle_ids"] = [a.subject_id for a in results]
    return body


async def reject(ctx: CommandContext, args: RejectArgs) -> dict[str, Any]:
    chosen = await _pending_decisions(ctx, args.ids)
    stories, results = _split(chosen)
    pid = ctx.project.id
    for approval in stories:
        story = await _decide(ctx, approval, ApprovalStatus.REJECTED, args.reason or None)
        if story is not None:
            ctx.tx.put(
                keys.entity(pid, "story", story.id), story.touched(status=StoryStatus.REMOVED)
            )
    for approval in _of(chosen, [ApprovalKind.BUDGET, ApprovalKind.MERGE]):  # nothing moves
        await _decide(ctx, approval, ApprovalStatus.REJECTED, args.reason or None)
    for approval in results:
        await _decide(ctx, approval, ApprovalStatus.REJECTED, args.reason or None)
        blocked = await _blocks_on_rejection(ctx, approval.subject_id)
        ctx.jobs.extend(
            await cycles.reject_result_in(
                ctx.tx, pid, approval.subject_id, ctx.actor.name, args.reason
            )
        )
        if blocked is not None:  # see _blocks_on_rejection
            ctx.project = ctx.project.touched(blocked_story_id=blocked)
            ctx.follow_up = SystemEvent.TASK_BLOCKED
    body: dict[str, Any] = {
        "rejected_story_ids": [a.subject_id for a in stories],
        "reason": args.reason,
    }
    if results:
        body["rejected_cycle_ids"] = [a.subject_id for a in results]
    return body


async def _blocks_on_rejection(ctx: CommandContext, cycle_id: str) -> str | None:
    """The story a rejected result blocks: its cycle's last attempt was refused while the
    sprint runs. `cycles.reject_result_in` blocks it (story, approval, project) inside this
    command's transaction, but the executor then writes the project from `ctx.project`, which
    must carry the block too: it used to be written over, leaving a blocked story in a running
    sprint that neither /suggest_fix nor /skip_task could reach."""
    cycle = await ctx.tx.get(TDDCycle, cycles.cycle_key(ctx.project.id, cycle_id))
    running = ctx.project.state is ScrumState.SPRINT_ACTIVE and ctx.follow_up is None
    if cycle is None or not running or cycle.attempt() < MAX_ATTEMPTS:
        return None
    return cycle.story_id


_DECIDED_HERE = frozenset(
    {
        ApprovalKind.STORY_PROPOSAL,
        ApprovalKind.PHASE_RESULT,
        ApprovalKind.BUDGET,
        ApprovalKind.MERGE,
    }
)


def _split(chosen: list[Approval]) -> tuple[list[Approval], list[Approval]]:
    return _of(chosen, ApprovalKind.STORY_PROPOSAL), _of(chosen, ApprovalKind.PHASE_RESULT)


def _of(chosen: list[Approval], kind: ApprovalKind | list[ApprovalKind]) -> list[Approval]:
    kinds = kind if isinstance(kind, list) else [kind]
    return [a for a in chosen if a.kind in kinds]


async def _go_past_budget(ctx: CommandContext, cycle_id: str) -> list[JobSpec]:
    """Waive the cap that held the cycle and queue its next run."""
    cycle = await ctx.tx.get(TDDCycle, cycles.cycle_key(ctx.project.id, cycle_id))
    if cycle is None or cycle.status is not CycleStatus.PAUSED or not cycle.budget_hold:
        return []  # resumed or ended by other means meanwhile
    await budgets.waive_in(ctx.tx, cycle)
    job = await cycles.requeue_in(ctx.tx, ctx.project.id, cycle_id)
    return [job] if job else []


async def _pending_decisions(ctx: CommandContext, ids: list[str]) -> list[Approval]:
    """The named proposals or phase results (story or approval ids), or every pending one when
    none is named."""
    pid = ctx.project.id
    if not ids:
        ids = await ctx.tx.reader.zrange(keys.index(pid, "approvals:pending"), 0, -1)
    found = [await _approval_for(ctx, i) for i in dict.fromkeys(ids)]
    chosen = [a for a in found if a.kind in _DECIDED_HERE]
    if not chosen:
        raise _nothing_to_decide(ctx, found)
    return chosen


# What a pending approval that /approve and /reject do not decide waits for instead.
_DECIDED_ELSEWHERE = {
    ApprovalKind.BLOCKED_TASK: "waits on a blocked story: decide it with /suggest_fix or /skip_task",
    ApprovalKind.SPRINT_REVIEW: "waits on the sprint review: end it with /feedback or "
    "/request_changes",
}
_NEXT_STEPS = (
    "suggest_fix",
    "skip_task",
    "feedback",
    "request_changes",
    "epic",
    "backlog add_story",
)


def _nothing_to_decide(ctx: CommandContext, found: list[Approval]) -> InvalidTransition:
    """The refusal when nothing named (or pending) is a decision for /approve or /reject: it
    says what each named approval waits for instead, and offers only commands the current
    state allows."""
    state = ctx.project.state
    elsewhere = [
        f"{a.id} {_DECIDED_ELSEWHERE[a.kind]}" for a in found if a.kind in _DECIDED_ELSEWHERE
    ]
    message = "Nothing to decide: no story or phase result is waiting for approval."
    if elsewhere:
        message += " " + "; ".join(elsewhere) + "."
    steps = [name for name in _NEXT_STEPS if state in COMMANDS[name].allowed_from]
    return InvalidTransition(message, state=state.value, allowed_commands=steps)


async def _approval_for(ctx: CommandContext, some_id: str) -> Approval:
    pid = ctx.project.id
    approval_id: str | None = some_id
    if some_id.startswith("story-"):
        story = await ctx.tx.get(Story, keys.entity(pid, "story", some_id))
        approval_id = story.approval_id if story else None
    approval = None
    if approval_id:
        approval = await ctx.tx.get(Approval, keys.entity(pid, "approval", approval_id))
    if approval is None:
        raise NotFound(
            f"{some_id} is not waiting for approval. "
            "See pending stories with /backlog view --status proposed.",
            ids=[some_id],
        )
    if approval.status is not ApprovalStatus.PENDING:
        raise AlreadyDecided(
            f"{some_id} is not waiting for approval: {approval.decided_by or 'the system'} "
            f"already decided it ({approval.status.value}). Nothing changed.",
            ids=[some_id],
            status=approval.status.value,
            decided_by=approval.decided_by,
        )
    return approval


async def _decide(
    ctx: CommandContext, approval: Approval, status: ApprovalStatus, reason: str | None
) -> Story | None:
    pid = ctx.project.id
    decided = approval.touched(
        status=status, decided_by=ctx.actor.name, decided_at=utcnow(), reason=reason
    )
    ctx.tx.put(keys.entity(pid, "approval", approval.id), decided)
    ctx.tx.call(lambda p: p.zrem(keys.index(pid, "approvals:pending"), approval.id))
    ctx.tx.call(lambda p: p.zrem(keys.index(pid, "proposed"), approval.subject_id))
    return await ctx.tx.get(Story, keys.entity(pid, "story", approval.subject_id))


async def _to_backlog(ctx: CommandContext, story: Story) -> None:
    pid = ctx.project.id
    seq = await next_sequence(ctx.tx, pid)
    ctx.tx.put(keys.entity(pid, "story", story.id), story.touched(status=StoryStatus.BACKLOG))
    score = backlog_score(story.priority, seq)
    ctx.tx.call(lambda p: p.zadd(keys.index(pid, "backlog"), {story.id: score}))
