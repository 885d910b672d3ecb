"""The metrics page's numbers: burndown of the current sprint, velocity of the recent ones, cycle
times of the current sprint's stories, and its TDD counts. Pure metrics from `shared.domain`;
bounded reads here (ten sprints, one sprint's events).

Stories without points would draw flat lines, so when no story of a sprint is estimated the
charts count stories instead (each weighs one), and say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from services.api.board.charts import Bar, bar_chart, line_chart
from shared.domain import metrics
from shared.domain.models import Project, Sprint, Story, utcnow
from shared.domain.story_flow import story_flows
from shared.domain.tdd import TDDCycle
from shared.domain.tdd_metrics import tdd_metrics
from shared.state import keys, timeline
from shared.state.timeline import TimelineEvent
from shared.workflow.cycles import cycle_key
from shared.workflow.queries import stories_by_id

if TYPE_CHECKING:
    from shared.state.store import Store

__all__ = ["sprint_metrics"]

_SPRINTS = 10
_EVENT_PAGE = 1_000
_MAX_EVENTS = 20_000


async def sprint_metrics(store: Store, project: Project) -> dict[str, Any]:
    sprints = await _recent_sprints(store, project.id)
    current = _current(project, sprints)
    ids = list(dict.fromkeys(i for s in sprints for i in s.story_ids))
    stories = await stories_by_id(store, project.id, ids)
    by_points = any(s.points for s in stories)
    weighed = stories if by_points else [s.model_copy(update={"points": 1}) for s in stories]
    unit = "points" if by_points else "stories"
    result: dict[str, Any] = {"sprint": current, "unit": unit, **_velocity(sprints, weighed, unit)}
    if current is not None:
        scope = metrics.sprint_stories(current, weighed)
        events = await _events_since(store, project.id, current.start_date)
        flows = story_flows(events)
        result |= _burndown(current, scope, flows, unit)
        result |= _cycle_time(scope, flows)
        result["tdd"] = tdd_metrics(await _sprint_cycles(store, project.id, scope))
    return result


async def _recent_sprints(store: Store, project_id: str) -> list[Sprint]:
    index = keys.index(project_id, "sprints")
    ids = await store.redis.zrange(index, 0, _SPRINTS - 1, desc=True)
    found = await store.get_many(Sprint, [keys.entity(project_id, "sprint", i) for i in ids])
    return [s for s in found if s is not None]


def _current(project: Project, sprints: Sequence[Sprint]) -> Sprint | None:
    for sprint in sprints:
        if sprint.id == project.active_sprint_id:
            return sprint
    started = [s for s in sprints if s.start_date is not None]
    return started[0] if started else None


async def _sprint_cycles(store: Store, project_id: str, scope: list[Story]) -> list[TDDCycle]:
    ids = [s.tdd_cycle_id for s in scope if s.tdd_cycle_id]
    found = await store.get_many(TDDCycle, [cycle_key(project_id, i) for i in ids])
    return [c for c in found if c is not None]


async def _events_since(
    store: Store, project_id: str, since: datetime | None
) -> list[TimelineEvent]:
    after = f"{int(since.timestamp() * 1000) - 1}-0" if since else None
    kept: list[TimelineEvent] = []
    for _ in range(_MAX_EVENTS // _EVENT_PAGE):
        page = await timeline.read(store.redis, project_id, after=after, limit=_EVENT_PAGE)
        kept.extend(e for e in page if e.command != "tool")
        if len(page) < _EVENT_PAGE:
            break
        after = page[-1].id
    return kept


def _burndown(sprint: Sprint, scope: list[Story], flows: Any, unit: str) -> dict[str, Any]:
    if sprint.start_date is None:
        return {"burndown": None, "burndown_days": []}
    chart = metrics.burndown(sprint, scope, flows, as_of=utcnow())
    labels = [d.day.strftime("%m-%d") for d in chart.days]
    svg = line_chart(
        labels,
        {"remaining": [d.remaining for d in chart.days], "ideal": [d.ideal for d in chart.days]},
        title=f"Burndown of {sprint.id} ({unit} remaining)",
        unit=unit,
        cls="burndown",
    )
    return {"burndown": svg, "burndown_days": list(chart.days)}


def _velocity(sprints: Sequence[Sprint], stories: list[Story], unit: str) -> dict[str, Any]:
    rows = metrics.velocity(sprints, stories)
    bars = [Bar(r.sprint_id[-8:], (r.committed_points, r.completed_points)) for r in rows]
    svg = bar_chart(
        bars, ("committed", "completed"), title=f"Velocity ({unit} per sprint)", unit=unit,
        cls="velocity",
    )  # fmt: skip
    return {"velocity": svg, "velocity_rows": rows, "velocity_mean": metrics.mean_velocity(rows)}


def _cycle_time(scope: list[Story], flows: Any) -> dict[str, Any]:
    times = metrics.cycle_times(scope, flows)
    stats = metrics.cycle_time_stats(times.values())
    minutes = {sid: round(t.total_seconds() / 60, 1) for sid, t in times.items()}
    bars = [Bar(sid[-8:], (value,)) for sid, value in minutes.items()]
    svg = bar_chart(bars, ("minutes",), title="Cycle time per done story", unit="min", cls="cycle")
    return {"cycle": svg, "cycle_minutes": minutes, "cycle_stats": stats}
