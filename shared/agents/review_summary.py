"""The Data agent's input for the sprint review: a compact brief of the sprint's metrics and
of its stories' outcomes, rendered as markdown or JSON, plus a plain-text fallback summary
for when the model is unavailable. Pure: the worker loads the data and calls the model.

Every list in the brief is bounded by `BriefLimits`, so the prompt costs the same for a sprint
of 10 stories or 10,000: status and point totals cover every story, but only the stories a
reviewer should look at first are listed (not done, then most refused or blocked, then
slowest), and the burndown is sampled down to a few days.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict

from shared.agents.review_text import fallback_summary, render_markdown
from shared.domain import metrics
from shared.domain.models import Sprint, Story, StoryStatus
from shared.domain.story_flow import EventLike, StoryFlow, story_flows

__all__ = [
    "BriefLimits",
    "BurndownPoint",
    "ReviewBrief",
    "StoryOutcome",
    "build_review_brief",
    "fallback_summary",
    "render_json",
    "render_markdown",
]

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class BriefLimits:
    max_stories: int = 20
    max_text_chars: int = 80
    max_burndown_points: int = 10
    velocity_window: int = 3

    def __post_init__(self) -> None:
        if self.max_stories < 0 or min(self.max_text_chars, self.max_burndown_points) < 2:
            raise ValueError(f"Brief limits too small to say anything: {self}.")
        if self.velocity_window < 1:
            raise ValueError(f"The velocity window must be at least 1, not {self.velocity_window}.")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StoryOutcome(_Frozen):
    id: str
    title: str
    status: StoryStatus
    points: int | None
    cycle_hours: float | None
    refusals: int
    blocks: int


class BurndownPoint(_Frozen):
    day: date
    remaining: int
    ideal: float


class ReviewBrief(_Frozen):
    sprint_id: str
    goal: str
    committed_points: int
    completed_points: int
    committed_stories: int
    completed_stories: int
    unestimated_stories: int
    status_counts: dict[str, int]
    velocity_mean: float
    velocity_history: list[int]
    cycle_count: int
    cycle_median_hours: float | None
    cycle_p85_hours: float | None
    gate_refusals: int
    blocks: int
    burndown: list[BurndownPoint]
    stories: list[StoryOutcome]
    stories_omitted: int


def build_review_brief(
    sprint: Sprint,
    stories: Iterable[Story],
    events: Iterable[EventLike],
    *,
    as_of: datetime,
    history: Sequence[metrics.SprintVelocity] = (),
    limits: BriefLimits = BriefLimits(),
) -> ReviewBrief:
    """The brief for `sprint`; `history` holds earlier sprints' velocity rows, oldest first."""
    scope = metrics.sprint_stories(sprint, stories)
    flows = story_flows(events)
    current = metrics.sprint_velocity(sprint, scope)
    rows = [*history, current] if sprint.start_date else list(history)
    recent = rows[-limits.velocity_window :]
    times = metrics.cycle_times(scope, flows)
    cycle = metrics.cycle_time_stats(times.values())
    counts = metrics.flow_counts(sprint.story_ids, flows)
    listed = _listed(scope, flows, times, limits)
    return ReviewBrief(
        sprint_id=_clip(sprint.id, limits.max_text_chars),
        goal=_clip(sprint.goal, 4 * limits.max_text_chars),
        committed_points=current.committed_points,
        completed_points=current.completed_points,
        committed_stories=current.committed_stories,
        completed_stories=current.completed_stories,
        unestimated_stories=current.unestimated_stories,
        status_counts=dict(sorted(Counter(s.status.value for s in scope).items())),
        velocity_mean=round(metrics.mean_velocity(rows, limits.velocity_window), 2),
        velocity_history=[row.completed_points for row in recent],
        cycle_count=cycle.count,
        cycle_median_hours=_hours(cycle.median),
        cycle_p85_hours=_hours(cycle.p85),
        gate_refusals=counts.gate_refusals,
        blocks=counts.blocks,
        burndown=_sampled_burndown(sprint, scope, flows, as_of, limits.max_burndown_points),
        stories=listed,
        stories_omitted=len(scope) - len(listed),
    )


def _listed(
    scope: Sequence[Story],
    flows: dict[str, StoryFlow],
    times: dict[str, timedelta],
    limits: BriefLimits,
) -> list[StoryOutcome]:
    """The `max_stories` stories a reviewer should see first, without building the others."""

    def attention(story: Story) -> tuple[bool, int, float, int, str]:
        flow = flows.get(story.id)
        trouble = flow.refusals + flow.blocks if flow else 0
        elapsed = times.get(story.id, timedelta(0)).total_seconds()
        done = story.status is StoryStatus.DONE
        return (done, -trouble, -elapsed, -metrics.points(story), story.id)

    picked = heapq.nsmallest(limits.max_stories, scope, key=attention)
    return [_outcome(s, flows.get(s.id), times.get(s.id), limits.max_text_chars) for s in picked]


def _outcome(
    story: Story, flow: StoryFlow | None, elapsed: timedelta | None, max_chars: int
) -> StoryOutcome:
    return StoryOutcome(
        id=_clip(story.id, max_chars),
        title=_clip(story.title, max_chars),
        status=story.status,
        points=story.points,
        cycle_hours=_hours(elapsed),
        refusals=flow.refusals if flow else 0,
        blocks=flow.blocks if flow else 0,
    )


def _sampled_burndown(
    sprint: Sprint,
    scope: Sequence[Story],
    flows: dict[str, StoryFlow],
    as_of: datetime,
    max_points: int,
) -> list[BurndownPoint]:
    days = metrics.burndown(sprint, scope, flows, as_of=as_of).days
    picked = _spread(len(days), max_points)
    return [
        BurndownPoint(day=d.day, remaining=d.remaining, ideal=d.ideal)
        for d in (days[i] for i in picked)
    ]


def _spread(count: int, wanted: int) -> list[int]:
    """Up to `wanted` (at least 2) indexes into `count` items, evenly spaced, ends included."""
    if count <= wanted:
        return list(range(count))
    step = (count - 1) / (wanted - 1)
    return sorted({round(i * step) for i in range(wanted)})


def _hours(elapsed: timedelta | None) -> float | None:
    return None if elapsed is None else round(elapsed.total_seconds() / 3600, 2)


def _clip(text: str, max_chars: int) -> str:
    flat = _SPACES.sub(" ", text).strip()
    return flat if len(flat) <= max_chars else flat[: max_chars - 1].rstrip() + "…"


def render_json(brief: ReviewBrief) -> str:
    return brief.model_dump_json()
