"""/sprint plan, start, pause and resume."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.domain.args import NoArgs, SprintPlanArgs
from shared.domain.models import (
    ProjectStatus,
    Sprint,
    SprintStatus,
    Story,
    StoryStatus,
    new_id,
    utcnow,
)
from shared.domain.scrum import SystemEvent
from shared.jobs.specs import schedule_job
from shared.platform.errors import InvalidTransition, NotFound
from shared.state import keys
from shared.workflow.repo import next_sequence, require

if TYPE_CHECKING:
    from shared.workflow.context import CommandContext

__all__ = ["FINISHED", "active_sprint", "pause", "plan", "resume", "sprint_finished", "start"]

FINISHED = frozenset({StoryStatus.DONE, StoryStatus.SKIPPED, StoryStatus.REMOVED})


async def plan(ctx: CommandContext, args: SprintPlanArgs) -> dict[str, Any]:
    pid = ctx.project.id
    ids = list(dict.fromkeys(args.story_ids)) or await _top_of_backlog(ctx, args.capacity)
    stories = await _plannable(ctx, ids)
    sprint = Sprint(id=new_id("sprint"), project_id=pid, goal=args.goal, story_ids=ids)
    seq = await next_sequence(ctx.tx, pid)
    ctx.tx.put(keys.entity(pid, "sprint", sprint.id), sprint)
    ctx.tx.call(lambda p: p.zadd(keys.index(pid, "sprints"), {sprint.id: seq}))
    for story in stories:
        ctx.tx.put(
            keys.entity(pid, "story", story.id),
            story.touched(status=StoryStatus.SPRINT, sprint_id=sprint.id),
        )
    ctx.tx.call(lambda p: p.zrem(keys.index(pid, "backlog"), *ids))
    ctx.project = ctx.project.touched(active_sprint_id=sprint.id)
    return {"created": True, "sprint_id": sprint.id, "story_ids": ids, "goal": args.goal}


async def start(ctx: CommandContext, args: NoArgs) -> dict[str, Any]:
    if ctx.project.status is not ProjectStatus.ACTIVE:
        raise InvalidTransition(
            f"Project {ctx.project.id} is stopped; start it with /project start {ctx.project.id} "
            "so agents can work on the sprint.",
            state=ctx.project.state.value,
            allowed_commands=["project start"],
        )
    sprint = await _set_sprint_status(ctx, SprintStatus.ACTIVE, start_date=utcnow())
    ctx.jobs.append(schedule_job(ctx.project.id, f"start-{sprint.id}"))
    return {"sprint_id": sprint.id, "story_ids": sprint.story_ids}


async def pause(ctx: CommandContext, args: NoArgs) -> dict[str, Any]:
    sprint = await _set_sprint_status(ctx, SprintStatus.PAUSED)
    return {"sprint_id": sprint.id}


async def resume(ctx: CommandContext, args: NoArgs) -> dict[str, Any]:
    sprint = await _set_sprint_status(ctx, SprintStatus.ACTIVE)
    ctx.jobs.append(schedule_job(ctx.project.id, f"resume-{ctx.project.version}"))
    if await sprint_finished(ctx):
        ctx.follow_up = SystemEvent.SPRINT_COMPLETED
    return {"sprint_id": sprint.id}


async def active_sprint(ctx: CommandContext) -> Sprint:
    sprint_id = ctx.project.active_sprint_id
    if not sprint_id:
        raise NotFound(f"Project {ctx.project.id} has no current sprint.")
    key = keys.entity(ctx.project.id, "sprint", sprint_id)
    return await require(ctx.tx, Sprint, key, f"Sprint {sprint_id}")


async def sprint_finished(ctx: CommandContext, skipping: str | None = None) -> bool:
    """True when every story of the current sprint is done, skipped or removed."""
    sprint = await active_sprint(ctx)
    others = [i for i in sprint.story_ids if i != skipping]
    stories = await ctx.tx.get_many(
        Story, [keys.entity(ctx.project.id, "story", i) for i in others]
    )
    return all(s is None or s.status in FINISHED for s in stories)


async def _set_sprint_status(ctx: CommandContext, status: SprintStatus, **extra: Any) -> Sprint:
    sprint = await active_sprint(ctx)
    key = keys.entity(ctx.project.id, "sprint", sprint.id)
    return ctx.tx.put(key, sprint.touched(status=status, **extra))


async def _top_of_backlog(ctx: CommandContext, capacity: int) -> list[str]:
    ids: list[str] = await ctx.tx.reader.zrange(
        keys.index(ctx.project.id, "backlog"), 0, capacity - 1
    )
    if not ids:
        raise InvalidTransition(
            "The backlog is empty: approve proposed stories with /approve or add one with "
            "/backlog add_story first.",
            state=ctx.project.state.value,
            allowed_commands=["approve", "backlog add_story"],
        )
    return ids


async def _plannable(ctx: CommandContext, ids: list[str]) -> list[Story]:
    pid = ctx.project.id
    found = await ctx.tx.get_many(Story, [keys.entity(pid, "story", i) for i in ids])
    missing = [i for i, s in zip(ids, found, strict=True) if s is None]
    if missing:
        raise NotFound(f"Stories not found: {', '.join(missing)}.", ids=missing)
    stories = [s for s in found if s is not None]
    wrong = [s for s in stories if s.status is not StoryStatus.BACKLOG]
    if wrong:
        listed = ", ".join(f"{s.id} ({s.status.value})" for s in wrong)
        raise InvalidTransition(
            f"Only approved backlog stories can be planned; not: {listed}.",
            state=ctx.project.state.value,
            allowed_commands=["approve", "backlog view"],
        )
    return stories
