"""Read-only `/tdd` commands: status, logs, overview and metrics. No locks, no writes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from shared.domain.models import Project, Sprint, Story
from shared.domain.tdd import FINISHED, TDDCycle
from shared.domain.tdd_metrics import tdd_metrics
from shared.domain.tdd_views import cycle_view, is_tdd_event, mentions, overview_row
from shared.platform.errors import NotFound
from shared.state import keys
from shared.state.timeline import TimelineEvent
from shared.workflow.cycles import cycle_key
from shared.workflow.queries import stories_by_id

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from shared.domain.args_tdd import TddLogsArgs, TddMetricsArgs, TddOverviewArgs, TddStoryArgs
    from shared.state.store import Store

__all__ = ["tdd_logs", "tdd_metrics_of", "tdd_overview", "tdd_status"]

_BATCH = 500
_SCAN_CAP = 5_000  # timeline entries one /tdd logs page may look at


async def tdd_status(store: Store, project: Project, args: TddStoryArgs) -> dict[str, Any]:
    if args.story_id:
        story = await _story(store, project, args.story_id)
        cycles = await _cycles(store, project.id, [story])
        hint = None if cycles else f"Story {story.id} has no TDD cycle; /tdd start {story.id}."
        return {"cycles": [cycle_view(c) for c in cycles], "message": hint}
    sprint = await _sprint(store, project, None)
    stories = await stories_by_id(store, project.id, sprint.story_ids if sprint else [])
    active = [c for c in await _cycles(store, project.id, stories) if c.status not in FINISHED]
    hint = None if active else "No active TDD cycle. /tdd overview lists every sprint story."
    return {"cycles": [cycle_view(c) for c in active], "message": hint}


async def tdd_logs(store: Store, project: Project, args: TddLogsArgs) -> dict[str, Any]:
    keep: Callable[[TimelineEvent], bool]
    if args.story_id:
        story = await _story(store, project, args.story_id)
        cycle_ids = {story.tdd_cycle_id} if story.tdd_cycle_id else set()

        def keep(e: TimelineEvent) -> bool:
            if e.command == "tool" and not args.include_tools:
                return False
            return mentions(e.payload, {story.id}, cycle_ids)
    else:

        def keep(e: TimelineEvent) -> bool:
            return is_tdd_event(e.command, e.payload, tools=args.include_tools)

    redis, key = store.redis, keys.timeline(project.id)
    events, cursor, scanned = await _scan(redis, key, args.before, args.limit, keep)
    return {
        "events": [e.model_dump(mode="json") for e in events],
        "next_cursor": cursor,
        "scanned": scanned,
    }


async def tdd_overview(store: Store, project: Project, args: TddOverviewArgs) -> dict[str, Any]:
    sprint = await _sprint(store, project, args.sprint_id)
    if sprint is None:
        return {"sprint_id": None, "rows": [], "counts": {}}
    stories = await stories_by_id(store, project.id, sprint.story_ids)
    by_id = {c.id: c for c in await _cycles(store, project.id, stories)}
    rows = [overview_row(s, by_id.get(s.tdd_cycle_id or "")) for s in stories]
    return {
        "sprint_id": sprint.id,
        "sprint_status": sprint.status.value,
        "rows": rows,
        "counts": dict(Counter(r["status"] or "not started" for r in rows)),
    }


async def tdd_metrics_of(store: Store, project: Project, args: TddMetricsArgs) -> dict[str, Any]:
    if args.sprint_id:
        sprint_ids = [(await _require_sprint(store, project, args.sprint_id)).id]
    else:
        index = keys.index(project.id, "sprints")
        sprint_ids = list(await store.redis.zrange(index, 0, args.sprints - 1, desc=True))
    sprints = await store.get_many(
        Sprint, [keys.entity(project.id, "sprint", i) for i in sprint_ids]
    )
    story_ids = [i for s in sprints if s is not None for i in s.story_ids]
    stories = await stories_by_id(store, project.id, list(dict.fromkeys(story_ids)))
    cycles = await _cycles(store, project.id, stories)
    return {"sprint_ids": sprint_ids, "metrics": tdd_metrics(cycles).as_dict()}


async def _story(store: Store, project: Project, story_id: str) -> Story:
    story = await store.get(Story, keys.entity(project.id, "story", story_id))
    if story is None:
        raise NotFound(f"Story {story_id} in project {project.id} not found.")
    return story


async def _cycles(store: Store, project_id: str, stories: Sequence[Story]) -> list[TDDCycle]:
    ids = [s.tdd_cycle_id for s in stories if s.tdd_cycle_id]
    found = await store.get_many(TDDCycle, [cycle_key(project_id, i) for i in ids])
    return [c for c in found if c is not None]


async def _sprint(store: Store, project: Project, sprint_id: str | None) -> Sprint | None:
    """The named sprint, else the current one, else the latest."""
    if sprint_id:
        return await _require_sprint(store, project, sprint_id)
    chosen = project.active_sprint_id
    if not chosen:
        latest = await store.redis.zrange(keys.index(project.id, "sprints"), 0, 0, desc=True)
        chosen = latest[0] if latest else None
    return await store.get(Sprint, keys.entity(project.id, "sprint", chosen)) if chosen else None


async def _require_sprint(store: Store, project: Project, sprint_id: str) -> Sprint:
    sprint = await store.get(Sprint, keys.entity(project.id, "sprint", sprint_id))
    if sprint is None:
        raise NotFound(f"Sprint {sprint_id} in project {project.id} not found.")
    return sprint


async def _scan(
    redis: Redis,
    key: str,
    before: str | None,
    limit: int,
    keep: Callable[[TimelineEvent], bool],
) -> tuple[list[TimelineEvent], str | None, int]:
    """Up to `limit` kept events older than `before`, oldest first; the cursor continues older."""
    upper = f"({before}" if before else "+"
    found: list[TimelineEvent] = []
    scanned = 0
    while scanned < _SCAN_CAP:
        batch = await redis.xrevrange(key, max=upper, min="-", count=_BATCH)
        for entry_id, data in batch:
            scanned += 1
            event = TimelineEvent.from_stream(entry_id, data)
            if keep(event):
                found.append(event)
                if len(found) == limit:
                    return found[::-1], entry_id, scanned
        if len(batch) < _BATCH:
            return found[::-1], None, scanned
        upper = f"({batch[-1][0]}"
    return found[::-1], upper[1:], scanned
