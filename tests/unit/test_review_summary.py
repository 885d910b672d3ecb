"""The Data agent's sprint-review brief: exact numbers, bounded size, deterministic text."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.agents.review_summary import (
    BriefLimits,
    BurndownPoint,
    ReviewBrief,
    build_review_brief,
    fallback_summary,
    render_json,
    render_markdown,
)
from shared.domain.metrics import SprintVelocity
from shared.domain.models import Sprint, Story, StoryStatus
from shared.state.timeline import TimelineEvent

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)
S = StoryStatus


def event(command: str, story_id: str, offset: timedelta) -> TimelineEvent:
    ms = int((T0 + offset).timestamp() * 1000)
    return TimelineEvent(
        id=f"{ms}-0", actor="system", command=command, payload={"story_id": story_id}
    )


def story(key: str, points: int | None, status: StoryStatus, title: str = "") -> Story:
    return Story(
        id=f"story-{key}",
        project_id="p",
        title=title or f"Story {key}",
        points=points,
        status=status,
    )


def sprint(story_ids: list[str], *, start: datetime | None = T0, goal: str = "") -> Sprint:
    return Sprint(id="sprint-1", project_id="p", goal=goal, story_ids=story_ids, start_date=start)


STORIES = [
    story("a", 3, S.DONE),
    story("b", 5, S.DONE),
    story("c", 2, S.BLOCKED),
    story("d", None, S.SKIPPED),
    story("e", 8, S.IN_PROGRESS),
    story("x", 13, S.DONE),  # another sprint's story
]
EVENTS = [
    event("tdd start", "story-a", 0 * H),
    event("phase refused", "story-a", 2 * H),
    event("story_done", "story-a", D + 2 * H),
    event("tdd start", "story-b", H),
    event("sprint_completed", "story-b", 3 * D),
    event("tdd start", "story-c", 0 * H),
    *(event("phase refused", "story-c", (3 + i) * H) for i in range(3)),
    event("task_blocked", "story-c", 6 * H),
    event("tdd start", "story-e", 4 * H),
    event("phase refused", "story-x", 5 * H),
    event("tool", "story-e", 7 * H),
]
HISTORY = [
    SprintVelocity("sprint-old", 9, 4, 3, 2, 0),
    SprintVelocity("sprint-prev", 8, 6, 3, 3, 0),
]
AS_OF = T0 + 3 * D + H
DEFAULT_LIMITS = BriefLimits()


def brief_of(
    stories: list[Story] = STORIES,
    events: list[TimelineEvent] = EVENTS,
    *,
    the_sprint: Sprint | None = None,
    limits: BriefLimits = DEFAULT_LIMITS,
) -> ReviewBrief:
    chosen = the_sprint or sprint([f"story-{k}" for k in "abcde"], goal="Ship  the\nlogin page")
    return build_review_brief(chosen, stories, events, as_of=AS_OF, history=HISTORY, limits=limits)


def test_the_brief_carries_the_sprint_numbers() -> None:
    brief = brief_of()
    assert brief.goal == "Ship the login page"
    assert (brief.committed_points, brief.completed_points) == (18, 8)
    assert (brief.committed_stories, brief.completed_stories, brief.unestimated_stories) == (
        5,
        2,
        1,
    )
    assert brief.status_counts == {"blocked": 1, "done": 2, "in_progress": 1, "skipped": 1}
    assert list(brief.status_counts) == sorted(brief.status_counts)
    assert (brief.velocity_mean, brief.velocity_history) == (6.0, [4, 6, 8])
    assert (brief.cycle_count, brief.cycle_median_hours, brief.cycle_p85_hours) == (2, 48.5, 71.0)
    assert (brief.gate_refusals, brief.blocks) == (4, 1)
    assert brief.burndown == [
        BurndownPoint(day=date(2024, 3, 4), remaining=18, ideal=13.5),
        BurndownPoint(day=date(2024, 3, 5), remaining=15, ideal=9.0),
        BurndownPoint(day=date(2024, 3, 6), remaining=15, ideal=4.5),
        BurndownPoint(day=date(2024, 3, 7), remaining=10, ideal=0.0),
    ]


def test_stories_needing_attention_come_first() -> None:
    brief = brief_of()
    listed = [(s.id, s.status, s.cycle_hours, s.refusals, s.blocks) for s in brief.stories]
    assert listed == [
        ("story-c", S.BLOCKED, None, 3, 1),
        ("story-e", S.IN_PROGRESS, None, 0, 0),
        ("story-d", S.SKIPPED, None, 0, 0),
        ("story-a", S.DONE, 26.0, 1, 0),
        ("story-b", S.DONE, 71.0, 0, 0),
    ]
    assert brief.stories_omitted == 0


def test_the_markdown_states_the_numbers() -> None:
    text = render_markdown(brief_of())
    for line in [
        "## Sprint review: sprint-1",
        "Goal: Ship the login page",
        "- Stories: 2 of 5 stories done (blocked 1, done 2, in_progress 1, skipped 1)",
        "- Points: 8 of 18 points done (44%); 1 story unestimated",
        "- Velocity: 6.00 points (mean of the last 3: 4, 6, 8)",
        "- Cycle time: median 48.5 h, 85th percentile 71 h over 2 stories",
        "- TDD flow: 4 gate refusals, 1 block",
        "| 2024-03-07 | 10 | 0.00 |",
        "### Stories (5 of 5, needing attention first)",
        "| story-c | blocked | 2 | - | 3 | 1 | Story c |",
        "| story-a | done | 3 | 26 | 1 | 0 | Story a |",
    ]:
        assert line in text.splitlines()
    assert "story-x" not in text


def test_the_fallback_summary_reads_without_a_model() -> None:
    assert fallback_summary(brief_of()) == (
        "Sprint sprint-1: 2 of 5 stories done, 8 of 18 points done (44%).\n"
        "Velocity: 6.00 points (mean of the last 3: 4, 6, 8).\n"
        "Cycle time: median 48.5 h, 85th percentile 71 h over 2 stories.\n"
        "TDD flow: 4 gate refusals, 1 block.\n"
        "Not done: story-c (blocked), story-e (in_progress), story-d (skipped).\n"
        "(Computed without the Data agent, which was unavailable.)"
    )


def test_the_fallback_says_how_many_open_stories_it_left_out() -> None:
    text = fallback_summary(brief_of(), max_listed=1)
    assert "Not done: story-c (blocked) and 2 more." in text.splitlines()


def test_the_json_round_trips() -> None:
    brief = brief_of()
    assert ReviewBrief.model_validate_json(render_json(brief)) == brief


def test_the_brief_does_not_depend_on_input_order() -> None:
    rnd = random.Random(7)
    stories, events = list(STORIES), list(EVENTS)
    rnd.shuffle(stories)
    rnd.shuffle(events)
    assert render_json(brief_of(stories, events)) == render_json(brief_of())
    assert render_markdown(brief_of(stories, events)) == render_markdown(brief_of())


def test_an_empty_sprint_still_reads() -> None:
    brief = brief_of([], [], the_sprint=sprint([]))
    text = render_markdown(brief)
    assert "No stories in this sprint." in text
    assert "- Points: 0 of 0 points done (no points committed); 0 stories unestimated" in text
    assert "- Cycle time: no story went from start to done" in text
    assert "Not done" not in fallback_summary(brief)


def test_a_sprint_not_started_has_no_burndown_nor_velocity_of_its_own() -> None:
    brief = brief_of(the_sprint=sprint(["story-e"], start=None))
    assert brief.burndown == []
    assert brief.velocity_history == [4, 6]
    assert "Burndown: the sprint has not started." in render_markdown(brief)


def test_a_first_sprint_not_started_has_no_velocity() -> None:
    brief = build_review_brief(sprint(["story-e"], start=None), STORIES, [], as_of=AS_OF)
    assert (brief.velocity_mean, brief.velocity_history) == (0.0, [])
    assert "Velocity: no started sprint yet." in fallback_summary(brief)


def test_a_long_sprint_burndown_is_sampled_with_both_ends() -> None:
    long = sprint(["story-a"], start=T0 - 89 * D)
    brief = brief_of(the_sprint=long)
    days = [p.day for p in brief.burndown]
    assert len(days) == DEFAULT_LIMITS.max_burndown_points
    assert days[0] == (T0 - 89 * D).date()
    assert days[-1] == AS_OF.date()
    assert days == sorted(set(days))


def test_free_text_is_flattened_clipped_and_escaped() -> None:
    title = "Pay | refund\n" + "x" * 150
    brief = brief_of([story("a", 1, S.BLOCKED, title)], [], the_sprint=sprint(["story-a"]))
    (listed,) = brief.stories
    assert len(listed.title) == DEFAULT_LIMITS.max_text_chars
    assert listed.title.startswith("Pay | refund xxx")
    assert listed.title.endswith("…")
    assert "| story-a | blocked | 1 | - | 0 | 0 | Pay \\| refund xxx" in render_markdown(brief)


def test_ten_thousand_stories_make_a_small_brief() -> None:
    statuses = [S.DONE, S.DONE, S.IN_PROGRESS, S.BLOCKED, S.SKIPPED]
    many = [
        story(f"{i:05d}", i % 13, statuses[i % 5], title=f"A long story title {i} " * 6)
        for i in range(10_000)
    ]
    events = [event("story_done", s.id, (i % 4) * D) for i, s in enumerate(many)]
    events += [event("phase refused", "story-00003", H), event("phase refused", "story-00003", H)]
    brief = brief_of(many, events, the_sprint=sprint([s.id for s in many]))
    assert brief.committed_stories == 10_000
    assert sum(brief.status_counts.values()) == 10_000
    assert len(brief.stories) == 20
    assert brief.stories_omitted == 9_980
    assert brief.stories[0].id == "story-00003"  # blocked and refused twice
    assert all(s.status is not S.DONE for s in brief.stories)
    assert len(render_markdown(brief)) < 5_000
    assert len(render_json(brief)) < 6_000
    assert "_9980 more stories not listed._" in render_markdown(brief)


@pytest.mark.parametrize(
    "limits",
    [
        {"max_stories": -1},
        {"max_text_chars": 1},
        {"max_burndown_points": 1},
        {"velocity_window": 0},
    ],
)
def test_limits_too_small_are_refused(limits: dict[str, int]) -> None:
    with pytest.raises(ValueError, match=r"at least 1|too small"):
        BriefLimits(**limits)


def test_no_listed_stories_when_the_limit_is_zero() -> None:
    brief = brief_of(limits=BriefLimits(max_stories=0))
    assert (brief.stories, brief.stories_omitted) == ([], 5)


_scenario = st.lists(
    st.tuples(
        st.one_of(st.none(), st.integers(0, 100)),
        st.sampled_from(list(StoryStatus)),
        st.text(min_size=1, max_size=300).filter(str.strip),
        st.integers(0, 5),
    ),
    max_size=40,
)
_limits = st.builds(
    BriefLimits,
    max_stories=st.integers(0, 10),
    max_text_chars=st.integers(2, 120),
    max_burndown_points=st.integers(2, 12),
    velocity_window=st.integers(1, 5),
)


@settings(database=None, max_examples=60, deadline=None)
@given(_scenario, _limits, st.integers(0, 40))
def test_the_brief_stays_within_its_limits(specs, limits: BriefLimits, days: int) -> None:
    stories = [story(f"{i}", p, s, title=t) for i, (p, s, t, _) in enumerate(specs)]
    events = [
        event("phase refused", f"story-{i}", H)
        for i, (*_, refusals) in enumerate(specs)
        for _ in range(refusals)
    ]
    brief = brief_of(
        stories,
        events,
        the_sprint=sprint([s.id for s in stories], start=AS_OF - days * D),
        limits=limits,
    )
    assert len(brief.stories) == min(limits.max_stories, len(stories))
    assert len(brief.stories) + brief.stories_omitted == brief.committed_stories == len(stories)
    assert len(brief.burndown) == min(limits.max_burndown_points, days + 1)
    assert all(len(s.title) <= limits.max_text_chars for s in brief.stories)
    assert brief.gate_refusals == sum(r for *_, r in specs)
    per_row = 4 * limits.max_text_chars + 80
    assert len(render_markdown(brief)) <= 2_000 + limits.max_stories * per_row
