"""/epic and /approve: epics, proposed stories and their approval."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.domain.args import EpicArgs, ProposedStory
from shared.domain.models import (
    Approval,
    ApprovalKind,
    Epic,
    Story,
    StoryStatus,
    new_id,
)
from shared.jobs.specs import propose_job
from shared.state import keys
from shared.workflow.repo import next_sequence

if TYPE_CHECKING:
    from shared.workflow.context import CommandContext

__all__ = ["epic", "propose_story"]

_TITLE_LENGTH = 80


async def epic(ctx: CommandContext, args: EpicArgs) -> dict[str, Any]:
    pid = ctx.project.id
    title = args.title or _title_from(args.description)
    doc = Epic(
        id=new_id("epic"),
        project_id=pid,
        title=title,
        description=args.description,
        created_by=ctx.actor.name,
    )
    seq = await next_sequence(ctx.tx, pid)
    ctx.tx.put(keys.entity(pid, "epic", doc.id), doc)
    ctx.tx.call(lambda p: p.zadd(keys.index(pid, "epics"), {doc.id: seq}))
    story_ids = [await propose_story(ctx, doc.id, s) for s in args.stories]
    if not story_ids:
        ctx.jobs.append(propose_job(pid, doc.id))  # the backlog agent proposes stories
    return {"created": True, "epic_id": doc.id, "title": title, "proposed_story_ids": story_ids}


async def propose_story(ctx: CommandContext, epic_id: str, proposal: ProposedStory) -> str:
    """A story waiting for /approve, with its pending approval."""
    pid = ctx.project.id
    story_id, approval_id = new_id("story"), new_id("approval")
    story = Story(
        id=story_id,
        project_id=pid,
        epic_id=epic_id,
        title=proposal.title,
        description=proposal.description,
        acceptance_criteria=list(proposal.acceptance_criteria),
        status=StoryStatus.PROPOSED,
        approval_id=approval_id,
        created_by=ctx.actor.name,
    )
    approval = Approval(
        id=approval_id,
        project_id=pid,
        kind=ApprovalKind.STORY_PROPOSAL,
        subject_id=story_id,
        summary=story.title,
        requested_by=ctx.actor.name,
    )
    seq = await next_sequence(ctx.tx, pid)
    ctx.tx.put(keys.entity(pid, "story", story.id), story)
    ctx.tx.put(keys.entity(pid, "approval", approval.id), approval)
    ctx.tx.call(lambda p: p.zadd(keys.index(pid, "stories"), {story.id: seq}))
    ctx.tx.call(lambda p: p.zadd(keys.index(pid, "proposed"), {story.id: seq}))
    ctx.tx.call(lambda p: p.zadd(keys.index(pid, "approvals"), {approval.id: seq}))
    ctx.tx.call(lambda p: p.zadd(keys.index(pid, "approvals:pending"), {approval.id: seq}))
    return story.id


def _title_from(description: str) -> str:
    first_line = description.strip().splitlines()[0]
    return first_line if len(first_line) <= _TITLE_LENGTH else first_line[: _TITLE_LENGTH - 1] + "…"
