"""Closing a sprint (/feedback, /request_changes) and unblocking it (/suggest_fix, /skip_task)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.domain.args import DescriptionArgs, NoArgs
from shared.domain.models import (
    Approval,
    ApprovalStatus,
    Retrospective,
    SprintStatus,
    Story,
    StoryStatus,
    new_id,
    utcnow,
)
from shared.domain.scrum import SystemEvent
from shared.jobs.specs import schedule_job
from shared.platform.errors import NotFound
from shared.state import keys
from shared.workflow import cycles
from shared.workflow.handlers.sprints import active_sprint, sprint_finished
from shared.workflow.repo import next_sequence, require_story, top_score

if TYPE_CHECKING:
    from shared.workflow.context import CommandContext

__all__ = ["feedback", "request_changes", "skip_task", "suggest_fix"]


async def feedback(ctx: CommandContext, args: DescriptionArgs) -> dict[str, Any]:
    sprint = await active_sprint(ctx)
    retro = Retrospective(notes=[args.description])
    closed = sprint.touched(status=SprintStatus.COMPLETED, end_date=utcnow(), retrospective=retro)
    ctx.tx.put(keys.entity(ctx.project.id, "sprint", sprint.id), closed)
    ctx.project = ctx.project.touched(active_sprint_id=None)
    return {"sprint_id": sprint.id, "closed": True}


async def request_changes(ctx: CommandContext, args: DescriptionArgs) -> dict[str, Any]:
    pid = ctx.project.id
    sprint = await active_sprint(ctx)
    closed = sprint.touched(
        status=SprintStatus.COMPLETED,
        end_date=utcnow(),
        change_requests=[*sprint.change_requests, args.description],
    )
    ctx.tx.put(keys.entity(pid, "sprint", sprint.id), closed)
    story = Story(
        id=new_id("story"),
        project_id=pid,
        title=_change_title(args.description),
        description=args.description,
        priority=1,
        created_by=ctx.actor.name,
    )
    seq = await next_sequence(ctx.tx, pid)
    ctx.tx.put(keys.entity(pid, "story", story.id), story)
    ctx.tx.call(lambda p: p.zadd(keys.index(pid, "stories"), {story.id: seq}))
    ctx.tx.call(lambda p: p.zadd(keys.index(pid, "backlog"), {story.id: top_score(seq)}))
    ctx.project = ctx.project.touched(active_sprint_id=None)
    return {"sprint_id": sprint.id, "closed": True, "change_story_id": story.id}


async def suggest_fix(ctx: CommandContext, args: DescriptionArgs) -> dict[str, Any]:
    story = await _blocked_story(ctx)
    await _decide_block(ctx, story, args.description)
    resumed = story.touched(status=StoryStatus.IN_PROGRESS, fix_hint=args.description)
    ctx.tx.put(keys.entity(ctx.project.id, "story", story.id), resumed)
    if story.tdd_cycle_id:
        job = await cycles.requeue_in(
            ctx.tx, ctx.project.id, story.tdd_cycle_id, hint=args.description, reset_attempts=True
        )
        ctx.jobs.extend([job] if job else [])
    ctx.project = ctx.project.touched(blocked_story_id=None)
    return {"story_id": story.id, "hint": args.description}


async def skip_task(ctx: CommandContext, args: NoArgs) -> dict[str, Any]:
    story = await _blocked_story(ctx)
    await _decide_block(ctx, story, "skipped")
    ctx.tx.put(
        keys.entity(ctx.project.id, "story", story.id), story.touched(status=StoryStatus.SKIPPED)
    )
    await cycles.abort_in(ctx.tx, ctx.project.id, story.tdd_cycle_id)
    ctx.jobs.append(schedule_job(ctx.project.id, f"skip-{story.id}"))
    ctx.project = ctx.project.touched(blocked_story_id=None)
    if await sprint_finished(ctx, skipping=story.id):
        ctx.follow_up = SystemEvent.SPRINT_COMPLETED
    return {"story_id": story.id, "skipped": True}


async def _blocked_story(ctx: CommandContext) -> Story:
    story_id = ctx.project.blocked_story_id
    if not story_id:
        raise NotFound(f"Project {ctx.project.id} has no blocked story.")
    return await require_story(ctx.tx, ctx.project.id, story_id)


async def _decide_block(ctx: CommandContext, story: Story, reason: str) -> None:
    if not story.approval_id:
        return
    key = keys.entity(ctx.project.id, "approval", story.approval_id)
    approval = await ctx.tx.get(Approval, key)
    if approval is None or approval.status is not ApprovalStatus.PENDING:
        return
    ctx.tx.put(
        key,
        approval.touched(
            status=ApprovalStatus.APPROVED,
            decided_by=ctx.actor.name,
            decided_at=utcnow(),
            reason=reason,
        ),
    )
    pending = keys.index(ctx.project.id, "approvals:pending")
    ctx.tx.call(lambda p: p.zrem(pending, approval.id))


def _change_title(description: str) -> str:
    first = description.strip().splitlines()[0]
    title = f"Changes requested: {first}"
    return title if len(title) <= 200 else title[:199] + "…"
