"""Find the cycle a `/tdd` steering command acts on, or refuse naming the cycle's state and the
commands that do apply to it."""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from shared.domain.commands import COMMANDS
from shared.domain.models import Story
from shared.domain.tdd import TDDCycle
from shared.domain.tdd_steering import STEERING, commands_for, fits, refusal
from shared.platform.errors import BadRequest, InvalidTransition
from shared.state import keys
from shared.workflow import cycles
from shared.workflow.handlers.sprints import active_sprint
from shared.workflow.repo import require_story

if TYPE_CHECKING:
    from shared.workflow.context import CommandContext

__all__ = ["refuse", "sprint_cycles", "sprint_story", "target"]


async def sprint_cycles(ctx: CommandContext) -> list[TDDCycle]:
    """The current cycle of every story of the current sprint."""
    pid = ctx.project.id
    sprint = await active_sprint(ctx)
    stories = await ctx.tx.get_many(Story, [keys.entity(pid, "story", i) for i in sprint.story_ids])
    ids = [s.tdd_cycle_id for s in stories if s is not None and s.tdd_cycle_id]
    found = await ctx.tx.get_many(TDDCycle, [cycles.cycle_key(pid, i) for i in ids])
    return [c for c in found if c is not None]


async def sprint_story(ctx: CommandContext, command: str, story_id: str) -> Story:
    story = await require_story(ctx.tx, ctx.project.id, story_id)
    if not ctx.project.active_sprint_id or story.sprint_id != ctx.project.active_sprint_id:
        raise InvalidTransition(
            f"/{command}: story {story_id} is not in the current sprint ({story.status.value}). "
            "/tdd overview lists the sprint's stories.",
            state=ctx.project.state.value,
            allowed_commands=_allowed(ctx, ("tdd overview", "backlog view")),
        )
    return story


async def target(ctx: CommandContext, command: str, story_id: str | None) -> TDDCycle:
    """The named story's cycle, or the only sprint cycle `command` fits; refused if it does not."""
    cycle = await _named(ctx, command, story_id) if story_id else await _only(ctx, command)
    if not fits(command, cycle):
        refuse(ctx, refusal(command, cycle), cycle)
    return cycle


def refuse(ctx: CommandContext, message: str, cycle: TDDCycle) -> NoReturn:
    allowed = _allowed(ctx, commands_for(cycle))
    listed = ", ".join(f"/{c}" for c in allowed) or "none"
    raise InvalidTransition(
        f"{message} Allowed for it now: {listed}.",
        state=ctx.project.state.value,
        allowed_commands=allowed,
        story_id=cycle.story_id,
        cycle_status=cycle.status.value,
        phase=cycle.phase.value,
    )


async def _named(ctx: CommandContext, command: str, story_id: str) -> TDDCycle:
    story = await sprint_story(ctx, command, story_id)
    cycle = None
    if story.tdd_cycle_id:
        cycle = await ctx.tx.get(TDDCycle, cycles.cycle_key(ctx.project.id, story.tdd_cycle_id))
    if cycle is None:
        raise InvalidTransition(
            f"/{command}: story {story_id} has no TDD cycle yet ({story.status.value}). "
            f"Start one with /tdd start {story_id}.",
            state=ctx.project.state.value,
            allowed_commands=_allowed(ctx, ("tdd start", "tdd overview")),
        )
    return cycle


async def _only(ctx: CommandContext, command: str) -> TDDCycle:
    fitting = [c for c in await sprint_cycles(ctx) if fits(command, c)]
    if len(fitting) == 1:
        return fitting[0]
    statuses = " or ".join(sorted(s.value for s in STEERING[command]))
    if not fitting:
        raise InvalidTransition(
            f"/{command}: no cycle of the current sprint is {statuses}. "
            "/tdd overview shows every cycle.",
            state=ctx.project.state.value,
            allowed_commands=_allowed(ctx, ("tdd overview", "tdd status")),
        )
    listed = ", ".join(f"{c.story_id} ({c.phase.value}, {c.status.value})" for c in fitting)
    raise BadRequest(
        f"/{command} fits {len(fitting)} cycles: {listed}. Name the story.",
        field="story_id",
        story_ids=[c.story_id for c in fitting],
    )


def _allowed(ctx: CommandContext, names: tuple[str, ...]) -> list[str]:
    return [n for n in names if ctx.project.state in COMMANDS[n].allowed_from]
