"""/backlog add_story, remove and prioritize. Each touches one story and one index entry."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.domain.args import BacklogAddStoryArgs, BacklogPrioritizeArgs, BacklogRemoveArgs
from shared.domain.commands import COMMANDS
from shared.domain.models import (
    Approval,
    ApprovalStatus,
    Epic,
    Story,
    StoryStatus,
    new_id,
    utcnow,
)
from shared.platform.errors import InvalidTransition
from shared.state import keys
from shared.workflow.repo import (
    PRIORITY_BY_NAME,
    backlog_score,
    next_sequence,
    require,
    require_story,
    top_score,
)

if TYPE_CHECKING:
    from shared.workflow.context import CommandContext

__all__ = ["add_story", "prioritize", "remove"]

_EDITABLE = frozenset({StoryStatus.BACKLOG, StoryStatus.PROPOSED})


async def add_story(ctx: CommandContext, args: BacklogAddStoryArgs) -> dict[str, Any]:
    pid = ctx.project.id
    if args.epic_id:
        await require(ctx.tx, Epic, keys.entity(pid, "epic", args.epic_id), f"Epic {args.epic_id}")
    story = Story(
        id=new_id("story"),
        project_id=pid,
        epic_id=args.epic_id,
        title=args.title,
        description=args.description,
        acceptance_criteria=list(args.acceptance_criteria),
        priority=args.priority,
        points=args.points,
        created_by=ctx.actor.name,
    )
    seq = await next_sequence(ctx.tx, pid)
    ctx.tx.put(keys.entity(pid, "story", story.id), story)
    ctx.tx.call(lambda p: p.zadd(keys.index(pid, "stories"), {story.id: seq}))
    score = backlog_score(story.priority, seq)
    ctx.tx.call(lambda p: p.zadd(keys.index(pid, "backlog"), {story.id: score}))
    return {"created": True, "story_id": story.id, "title": story.title}


async def remove(ctx: CommandContext, args: BacklogRemoveArgs) -> dict[str, Any]:
    pid = ctx.project.id
    story = await _editable_story(ctx, args.story_id)
    saved = ctx.tx.put(
        keys.entity(pid, "story", story.id), story.touched(status=StoryStatus.REMOVED)
    )
    ctx.tx.call(lambda p: p.zrem(keys.index(pid, "backlog"), story.id))
    ctx.tx.call(lambda p: p.zrem(keys.index(pid, "proposed"), story.id))
    if story.approval_id and story.status is StoryStatus.PROPOSED:
        await _withdraw_approval(ctx, story.approval_id)
    return {"story_id": story.id, "removed": True, "story_version": saved.version}


async def prioritize(ctx: CommandContext, args: BacklogPrioritizeArgs) -> dict[str, Any]:
    pid = ctx.project.id
    story = await _editable_story(ctx, args.story_id)
    priority = PRIORITY_BY_NAME[args.priority]
    saved = ctx.tx.put(keys.entity(pid, "story", story.id), story.touched(priority=priority))
    if story.status is StoryStatus.BACKLOG:
        seq = await next_sequence(ctx.tx, pid)
        score = top_score(seq) if args.priority == "top" else backlog_score(priority, seq)
        ctx.tx.call(lambda p: p.zadd(keys.index(pid, "backlog"), {story.id: score}))
    return {"story_id": story.id, "priority": priority, "story_version": saved.version}


async def _withdraw_approval(ctx: CommandContext, approval_id: str) -> None:
    pid = ctx.project.id
    key = keys.entity(pid, "approval", approval_id)
    approval = await ctx.tx.get(Approval, key)
    if approval is None or approval.status is not ApprovalStatus.PENDING:
        return
    ctx.tx.put(
        key,
        approval.touched(
            status=ApprovalStatus.REJECTED,
            decided_by=ctx.actor.name,
            decided_at=utcnow(),
            reason="story removed from the backlog",
        ),
    )
    ctx.tx.call(lambda p: p.zrem(keys.index(pid, "approvals:pending"), approval_id))


async def _editable_story(ctx: CommandContext, story_id: str) -> Story:
    story = await require_story(ctx.tx, ctx.project.id, story_id)
    if story.status not in _EDITABLE:
        state = ctx.project.state
        raise InvalidTransition(
            f"Story {story_id} is {story.status.value}; only backlog or proposed stories can be "
            "changed here.",
            state=state.value,
            allowed_commands=[c for c in _INSTEAD if state in COMMANDS[c].allowed_from],
            story_status=story.status.value,
        )
    return story


_INSTEAD = ("backlog view", "tdd status")  # what a story past the backlog still offers
