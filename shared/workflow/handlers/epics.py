"""/epic and /approve: epics, proposed stories and their approval."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.domain.args import ApproveArgs, EpicArgs, ProposedStory
from shared.domain.models import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Epic,
    Story,
    StoryStatus,
    new_id,
    utcnow,
)
from shared.platform.errors import InvalidTransition, NotFound
from shared.state import keys
from shared.workflow.repo import backlog_score, next_sequence

if TYPE_CHECKING:
    from shared.workflow.context import CommandContext

__all__ = ["approve", "epic", "propose_story"]

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


async def approve(ctx: CommandContext, args: ApproveArgs) -> dict[str, Any]:
    pid = ctx.project.id
    pending_ids: list[str] = await ctx.tx.reader.zrange(keys.index(pid, "approvals:pending"), 0, -1)
    pending = await ctx.tx.get_many(
        Approval, [keys.entity(pid, "approval", a) for a in pending_ids]
    )
    proposals = [a for a in pending if a and a.kind is ApprovalKind.STORY_PROPOSAL]
    chosen = _choose(proposals, args.ids) if args.ids else proposals
    if not chosen:
        raise InvalidTransition(
            "Nothing to approve: no story is waiting for approval.",
            state=ctx.project.state.value,
            allowed_commands=["backlog add_story", "sprint plan", "epic"],
        )
    approved = [await _approve_story(ctx, a) for a in chosen]
    return {"approved_story_ids": approved}


def _choose(proposals: list[Approval], ids: list[str]) -> list[Approval]:
    by_id = {a.id: a for a in proposals} | {a.subject_id: a for a in proposals}
    unknown = [i for i in ids if i not in by_id]
    if unknown:
        raise NotFound(
            f"Not waiting for approval: {', '.join(unknown)}. "
            "See pending stories with /backlog view status:proposed.",
            ids=unknown,
        )
    return list({by_id[i].id: by_id[i] for i in ids}.values())


async def _approve_story(ctx: CommandContext, approval: Approval) -> str:
    pid = ctx.project.id
    story_key = keys.entity(pid, "story", approval.subject_id)
    story = await ctx.tx.get(Story, story_key)
    decided = approval.touched(
        status=ApprovalStatus.APPROVED, decided_by=ctx.actor.name, decided_at=utcnow()
    )
    ctx.tx.put(keys.entity(pid, "approval", approval.id), decided)
    ctx.tx.call(lambda p: p.zrem(keys.index(pid, "approvals:pending"), approval.id))
    if story is not None:
        seq = await next_sequence(ctx.tx, pid)
        ctx.tx.put(story_key, story.touched(status=StoryStatus.BACKLOG))
        ctx.tx.call(lambda p: p.zrem(keys.index(pid, "proposed"), story.id))
        score = backlog_score(story.priority, seq)
        ctx.tx.call(lambda p: p.zadd(keys.index(pid, "backlog"), {story.id: score}))
    return approval.subject_id


def _title_from(description: str) -> str:
    first_line = description.strip().splitlines()[0]
    return first_line if len(first_line) <= _TITLE_LENGTH else first_line[: _TITLE_LENGTH - 1] + "…"
