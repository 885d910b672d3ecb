"""Sprint metrics as pure functions: velocity, burndown, cycle time and flow counts.

Inputs are the domain models plus the timeline folded once by `story_flow.story_flows`.
The rules are chosen so that a skewed clock or a partial timeline never breaks a review:

- Whether a story is done comes from `Story.status`; the timeline only says *when*.
- A done story without a done event, or done outside the sprint's dates, is drawn on the
  burndown's last (or first) day, so the last day always agrees with the stories' status.
- Unestimated stories (`points=None`) weigh zero points but still count as stories.
- Sprint scope is `Sprint.story_ids` (fixed at planning); ids with no story given are left out.

Per-cycle TDD measures (attempts, test runs, tokens) belong to `tdd_metrics`; here are only
the sprint-level counts the timeline gives away: gate refusals and blocks.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from shared.domain.models import Sprint, Story, StoryStatus
from shared.domain.story_flow import StoryFlow, as_utc

__all__ = [
    "Burndown",
    "BurndownDay",
    "CycleTimeStats",
    "FlowCounts",
    "SprintVelocity",
    "burndown",
    "cycle_time_stats",
    "cycle_times",
    "flow_counts",
    "mean_velocity",
    "points",
    "sprint_stories",
    "sprint_velocity",
    "velocity",
]


@dataclass(frozen=True)
class SprintVelocity:
    sprint_id: str
    committed_points: int
    completed_points: int
    committed_stories: int
    completed_stories: int
    unestimated_stories: int


@dataclass(frozen=True)
class BurndownDay:
    """Points still open at the end of `day` (UTC), and where a straight line would be."""

    day: date
    remaining: int
    ideal: float


@dataclass(frozen=True)
class Burndown:
    sprint_id: str
    committed: int
    days: tuple[BurndownDay, ...]

    @property
    def completed(self) -> int:
        return self.committed - self.days[-1].remaining if self.days else 0


@dataclass(frozen=True)
class CycleTimeStats:
    count: int
    median: timedelta | None
    p85: timedelta | None


@dataclass(frozen=True)
class FlowCounts:
    gate_refusals: int
    blocks: int


def points(story: Story) -> int:
    return story.points or 0


def sprint_stories(sprint: Sprint, stories: Iterable[Story]) -> list[Story]:
    """The sprint's stories in plan order; ids with no story given are left out."""
    wanted = dict.fromkeys(sprint.story_ids)
    found = {story.id: story for story in stories if story.id in wanted}
    return [found[story_id] for story_id in wanted if story_id in found]


def sprint_velocity(sprint: Sprint, stories: Iterable[Story]) -> SprintVelocity:
    scope = sprint_stories(sprint, stories)
    done = [story for story in scope if story.status is StoryStatus.DONE]
    return SprintVelocity(
        sprint_id=sprint.id,
        committed_points=sum(map(points, scope)),
        completed_points=sum(map(points, done)),
        committed_stories=len(scope),
        completed_stories=len(done),
        unestimated_stories=sum(1 for story in scope if story.points is None),
    )


def velocity(sprints: Iterable[Sprint], stories: Iterable[Story]) -> list[SprintVelocity]:
    """One row per started sprint, oldest first; planned sprints have no velocity yet."""
    started = [(as_utc(s.start_date), s) for s in sprints if s.start_date is not None]
    started.sort(key=lambda pair: (pair[0], pair[1].id))
    every_story = list(stories)
    return [sprint_velocity(sprint, every_story) for _, sprint in started]


def mean_velocity(rows: Sequence[SprintVelocity], window: int = 3) -> float:
    """Mean completed points of the last `window` rows; 0.0 when there are none."""
    if window < 1:
        raise ValueError(f"The velocity window must be at least 1, not {window}.")
    recent = rows[-window:]
    return sum(row.completed_points for row in recent) / len(recent) if recent else 0.0


def burndown(
    sprint: Sprint,
    stories: Iterable[Story],
    flows: Mapping[str, StoryFlow],
    *,
    as_of: datetime | None = None,
) -> Burndown:
    """Remaining points per day from start to end (or `as_of` while the sprint is open)."""
    scope = sprint_stories(sprint, stories)
    committed = sum(map(points, scope))
    if sprint.start_date is None:
        return Burndown(sprint.id, committed, ())
    first, last = _sprint_days(sprint, sprint.start_date, as_of)
    done = _done_points_by_day(scope, flows, first, last)
    return Burndown(sprint.id, committed, _days(committed, done, first, last))


def _sprint_days(sprint: Sprint, start: datetime, as_of: datetime | None) -> tuple[date, date]:
    end = sprint.end_date or as_of
    if end is None:
        raise ValueError(f"Sprint {sprint.id} is still open: pass as_of to draw its burndown.")
    first, last = as_utc(start).date(), as_utc(end).date()
    if last < first:
        raise ValueError(f"Sprint {sprint.id} ends ({last}) before it starts ({first}).")
    return first, last


def _done_points_by_day(
    scope: Iterable[Story], flows: Mapping[str, StoryFlow], first: date, last: date
) -> Counter[date]:
    done: Counter[date] = Counter()
    for story in scope:
        if story.status is StoryStatus.DONE:
            flow = flows.get(story.id)
            day = as_utc(flow.done_at).date() if flow and flow.done_at else last
            done[min(max(day, first), last)] += points(story)
    return done


def _days(committed: int, done: Counter[date], first: date, last: date) -> tuple[BurndownDay, ...]:
    count = (last - first).days + 1
    remaining = committed
    days = []
    for index in range(count):
        day = first + timedelta(days=index)
        remaining -= done[day]
        ideal = round(committed * (count - index - 1) / count, 2)
        days.append(BurndownDay(day, remaining, ideal))
    return tuple(days)


def cycle_times(stories: Iterable[Story], flows: Mapping[str, StoryFlow]) -> dict[str, timedelta]:
    """First start to last done, for done stories whose timeline shows both in that order."""
    times: dict[str, timedelta] = {}
    for story in stories:
        flow = flows.get(story.id)
        elapsed = flow.cycle_time if flow and story.status is StoryStatus.DONE else None
        if elapsed is not None:
            times[story.id] = elapsed
    return times


def cycle_time_stats(durations: Iterable[timedelta]) -> CycleTimeStats:
    """Median (mean of the two middle values when even) and nearest-rank 85th percentile."""
    ordered = sorted(durations)
    count = len(ordered)
    if not count:
        return CycleTimeStats(0, None, None)
    middle = count // 2
    median = ordered[middle] if count % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    rank_85 = (85 * count + 99) // 100  # ceil(0.85 * count) in exact integer arithmetic
    return CycleTimeStats(count, median, ordered[rank_85 - 1])


def flow_counts(story_ids: Iterable[str], flows: Mapping[str, StoryFlow]) -> FlowCounts:
    picked = [flows[story_id] for story_id in dict.fromkeys(story_ids) if story_id in flows]
    return FlowCounts(
        gate_refusals=sum(flow.refusals for flow in picked),
        blocks=sum(flow.blocks for flow in picked),
    )
