"""/tdd start, pause, resume, halt_all, abort, skip_phase and run_tests: humans steering the
cycles agents drive. The manual advance verbs have no handler: the table refuses them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.domain.args import NoArgs
from shared.domain.args_tdd import TddResumeArgs, TddSkipPhaseArgs, TddStartArgs, TddStoryArgs
from shared.domain.models import ScrumState, StoryStatus
from shared.domain.phases import Phase
from shared.domain.scrum import SystemEvent
from shared.domain.tdd import FINISHED, LIVE, CycleStatus, TDDCycle
from shared.domain.tdd_steering import status_hint
from shared.jobs.specs import phase_job, schedule_job
from shared.platform.errors import InvalidTransition
from shared.state import keys
from shared.workflow import cycle_steering as steer
from shared.workflow import cycles
from shared.workflow.handlers import sprints
from shared.workflow.handlers.tdd_targets import refuse, sprint_cycles, sprint_story, target

if TYPE_CHECKING:
    from shared.domain.models import Story
    from shared.workflow.context import CommandContext

__all__ = ["abort", "halt_all", "pause", "resume", "run_tests", "skip_phase", "start"]

_NO_RED_BASELINE = (
    "TEST_RED was skipped, so no test files were fingerprinted: the CODE_GREEN and REFACTOR "
    "gates will count every test file as changed. Skip those too, or abort and /tdd start again."
)


async def start(ctx: CommandContext, args: TddStartArgs) -> dict[str, Any]:
    story = await sprint_story(ctx, "tdd start", args.story_id)
    await _check_startable(ctx, story)
    cycle = cycles.start_in(ctx.tx, story)
    ctx.extra_events.append(steer.cycle_event(ctx.actor.name, "tdd start", cycle))
    ctx.jobs.append(phase_job(ctx.project.id, cycle.id, cycle.phase.value, cycle.run))
    return {"created": True, **_ids(cycle), "phase": cycle.phase.value}


async def pause(ctx: CommandContext, args: TddStoryArgs) -> dict[str, Any]:
    cycle = await target(ctx, "tdd pause", args.story_id)
    ctx.extra_events.append(steer.pause(ctx.tx, cycle, ctx.actor.name))
    result: dict[str, Any] = {**_ids(cycle), "phase": cycle.phase.value, "was": cycle.status.value}
    if cycle.status is CycleStatus.RUNNING:
        result["note"] = "Its running attempt is recorded when it ends, without moving on."
    return result


async def resume(ctx: CommandContext, args: TddResumeArgs) -> dict[str, Any]:
    if args.all:
        chosen = [c for c in await sprint_cycles(ctx) if c.status is CycleStatus.PAUSED]
        if not chosen:
            raise InvalidTransition(
                "/tdd resume --all: no cycle of the current sprint is paused.",
                state=ctx.project.state.value,
                allowed_commands=["tdd overview", "tdd status"],
            )
    else:
        chosen = [await target(ctx, "tdd resume", args.story_id)]
    for cycle in chosen:
        event, job = await steer.resume(ctx.tx, cycle, ctx.actor.name)
        ctx.extra_events.append(event)
        ctx.jobs.extend([job] if job else [])
    return {"cycle_ids": [c.id for c in chosen], "story_ids": [c.story_id for c in chosen]}


async def halt_all(ctx: CommandContext, args: NoArgs) -> dict[str, Any]:
    live = [c for c in await sprint_cycles(ctx) if c.status in LIVE]
    for cycle in live:
        ctx.extra_events.append(steer.pause(ctx.tx, cycle, ctx.actor.name))
    sprint_paused = ctx.project.state is ScrumState.SPRINT_ACTIVE
    if sprint_paused:  # so the scheduler starts no new cycle either
        await sprints.pause(ctx, args)
    return {
        "cycle_ids": [c.id for c in live],
        "story_ids": [c.story_id for c in live],
        "sprint_paused": sprint_paused,
        "next": "Undo with /sprint resume, then /tdd resume --all.",
    }


async def abort(ctx: CommandContext, args: TddStoryArgs) -> dict[str, Any]:
    cycle = await target(ctx, "tdd abort", args.story_id)
    ctx.extra_events.append(await steer.abort(ctx.tx, cycle, ctx.actor.name))
    ctx.jobs.append(schedule_job(ctx.project.id, f"abort-{cycle.id}"))
    return {
        **_ids(cycle),
        "phase": cycle.phase.value,
        "aborted": True,
        "next": f"The story waits in the sprint; /tdd start {cycle.story_id} begins a new cycle.",
    }


async def skip_phase(ctx: CommandContext, args: TddSkipPhaseArgs) -> dict[str, Any]:
    cycle = await target(ctx, "tdd skip_phase", args.story_id)
    if cycle.paused_from is CycleStatus.RUNNING and await steer.job_holds(ctx.tx, cycle):
        refuse(
            ctx,
            f"/tdd skip_phase: the job running {cycle.phase.value} for story {cycle.story_id} "
            "has not recorded its attempt yet, and skipping now would race it on the branch. "
            "Skip once /tdd status shows it paused from queued.",
            cycle,
        )
    moved, event, job = steer.skip(ctx.tx, cycle, ctx.actor.name, args.justification)
    ctx.extra_events.append(event)
    ctx.jobs.extend([job] if job else [])
    result: dict[str, Any] = {**_ids(cycle), "skipped": cycle.phase.value}
    result |= {"phase": moved.phase.value, "status": moved.status.value}
    if cycle.phase is Phase.TEST_RED:
        result["warning"] = _NO_RED_BASELINE
    if moved.status is CycleStatus.DONE:
        await _finish_story(ctx, cycle)
        result["story_done"] = True
    return result


async def run_tests(ctx: CommandContext, args: TddStoryArgs) -> dict[str, Any]:
    cycle = await target(ctx, "tdd run_tests", args.story_id)
    event, job = await steer.rerun(ctx.tx, cycle, ctx.actor.name)
    ctx.extra_events.append(event)
    ctx.jobs.append(job)
    return {**_ids(cycle), "phase": cycle.phase.value, "run": job.kwargs["run"]}


async def _check_startable(ctx: CommandContext, story: Story) -> None:
    if story.tdd_cycle_id:
        current = await ctx.tx.get(TDDCycle, cycles.cycle_key(ctx.project.id, story.tdd_cycle_id))
        if current is not None and current.status not in FINISHED:
            refuse(
                ctx,
                f"/tdd start: story {story.id} already has cycle {current.id} "
                f"({current.status.value} in {current.phase.value}). {status_hint(current)}",
                current,
            )
    if story.status is not StoryStatus.SPRINT:
        raise InvalidTransition(
            f"/tdd start: story {story.id} is {story.status.value}; only a sprint story that is "
            "not started (or whose cycle was aborted) can start a cycle.",
            state=ctx.project.state.value,
            allowed_commands=["tdd overview", "tdd status"],
        )


async def _finish_story(ctx: CommandContext, cycle: TDDCycle) -> None:
    """The story of a cycle whose last phase was skipped is done, as if COMMIT had passed."""
    key = keys.entity(ctx.project.id, "story", cycle.story_id)
    story = await sprint_story(ctx, "tdd skip_phase", cycle.story_id)
    ctx.tx.put(key, story.touched(status=StoryStatus.DONE))
    ctx.extra_events.append(steer.cycle_event(ctx.actor.name, "story_done", cycle))
    ctx.jobs.append(schedule_job(ctx.project.id, f"done-{cycle.id}"))
    if await sprints.sprint_finished(ctx, skipping=cycle.story_id):
        ctx.follow_up = SystemEvent.SPRINT_COMPLETED


def _ids(cycle: TDDCycle) -> dict[str, str]:
    return {"cycle_id": cycle.id, "story_id": cycle.story_id}
