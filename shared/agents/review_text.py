"""Words for a `ReviewBrief`: the markdown the Data agent reads, and the plain-text summary
posted instead when the model is unavailable. Pure and deterministic; every list printed here
is already bounded by the brief.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.domain.models import StoryStatus

if TYPE_CHECKING:
    from shared.agents.review_summary import ReviewBrief, StoryOutcome

__all__ = ["fallback_summary", "render_markdown"]

_STORY_HEADER = "| id | status | points | cycle h | refusals | blocks | title |"


def render_markdown(brief: ReviewBrief) -> str:
    return "\n".join([*_headline(brief), *_burndown_table(brief), *_story_table(brief)]) + "\n"


def fallback_summary(brief: ReviewBrief, *, max_listed: int = 5) -> str:
    """Plain sentences from the brief alone, for when the Data agent cannot be reached."""
    lines = [
        f"Sprint {brief.sprint_id}: {_stories_done(brief)}, {_points_done(brief)}.",
        f"Velocity: {_velocity(brief)}.",
        f"Cycle time: {_cycle(brief)}.",
        f"TDD flow: {_flow(brief)}.",
        *_not_done(brief, max_listed),
        "(Computed without the Data agent, which was unavailable.)",
    ]
    return "\n".join(lines)


def _headline(brief: ReviewBrief) -> list[str]:
    statuses = ", ".join(f"{name} {count}" for name, count in brief.status_counts.items())
    return [
        f"## Sprint review: {brief.sprint_id}",
        f"Goal: {brief.goal or '(none)'}",
        "",
        f"- Stories: {_stories_done(brief)} ({statuses or 'none'})",
        f"- Points: {_points_done(brief)}; {_count(brief.unestimated_stories, 'story')} unestimated",
        f"- Velocity: {_velocity(brief)}",
        f"- Cycle time: {_cycle(brief)}",
        f"- TDD flow: {_flow(brief)}",
    ]


def _burndown_table(brief: ReviewBrief) -> list[str]:
    if not brief.burndown:
        return ["", "Burndown: the sprint has not started."]
    rows = [f"| {p.day.isoformat()} | {p.remaining} | {p.ideal:.2f} |" for p in brief.burndown]
    return ["", "### Burndown (end of day)", "| day | remaining | ideal |", "|---|---|---|", *rows]


def _story_table(brief: ReviewBrief) -> list[str]:
    shown = len(brief.stories)
    if not shown:
        return ["", "No stories in this sprint."]
    head = f"### Stories ({shown} of {shown + brief.stories_omitted}, needing attention first)"
    rows = [_story_row(story) for story in brief.stories]
    omitted = brief.stories_omitted
    more = [f"_{_count(omitted, 'more story')} not listed._"] if omitted else []
    return ["", head, _STORY_HEADER, "|---" * 7 + "|", *rows, *more]


def _story_row(story: StoryOutcome) -> str:
    cells = [
        story.id,
        story.status.value,
        _dash(story.points),
        _dash(story.cycle_hours),
        str(story.refusals),
        str(story.blocks),
        story.title,
    ]
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _not_done(brief: ReviewBrief, max_listed: int) -> list[str]:
    listed = [s for s in brief.stories if s.status is not StoryStatus.DONE][:max_listed]
    if not listed:
        return []
    hidden = brief.committed_stories - brief.completed_stories - len(listed)
    names = ", ".join(f"{s.id} ({s.status.value})" for s in listed)
    return [f"Not done: {names}" + (f" and {hidden} more." if hidden > 0 else ".")]


def _stories_done(brief: ReviewBrief) -> str:
    return f"{brief.completed_stories} of {brief.committed_stories} stories done"


def _points_done(brief: ReviewBrief) -> str:
    done = f"{brief.completed_points} of {brief.committed_points} points done"
    if not brief.committed_points:
        return f"{done} (no points committed)"
    return f"{done} ({100 * brief.completed_points / brief.committed_points:.0f}%)"


def _velocity(brief: ReviewBrief) -> str:
    history = brief.velocity_history
    if not history:
        return "no started sprint yet"
    shown = ", ".join(map(str, history))
    return f"{brief.velocity_mean:.2f} points (mean of the last {len(history)}: {shown})"


def _cycle(brief: ReviewBrief) -> str:
    if not brief.cycle_count:
        return "no story went from start to done"
    return (
        f"median {brief.cycle_median_hours:g} h, 85th percentile {brief.cycle_p85_hours:g} h"
        f" over {_count(brief.cycle_count, 'story')}"
    )


def _flow(brief: ReviewBrief) -> str:
    return f"{_count(brief.gate_refusals, 'gate refusal')}, {_count(brief.blocks, 'block')}"


def _count(count: int, noun: str) -> str:
    if count == 1:
        return f"1 {noun}"
    return f"{count} {noun[:-1] + 'ies' if noun.endswith('y') else noun + 's'}"


def _dash(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"
