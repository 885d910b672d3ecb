"""Sprint metrics: the timeline folded per story, velocity, burndown, cycle time, flow counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.metrics import (
    BurndownDay,
    CycleTimeStats,
    FlowCounts,
    SprintVelocity,
    burndown,
    cycle_time_stats,
    cycle_times,
    flow_counts,
    mean_velocity,
    sprint_velocity,
    velocity,
)
from shared.domain.models import Sprint, Story, StoryStatus
from shared.domain.story_flow import StoryFlow, event_time, story_flows
from shared.state.timeline import TimelineEvent

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)  # a Monday
DONE = StoryStatus.DONE
H = timedelta(hours=1)
D = timedelta(days=1)


def at(offset: timedelta) -> datetime:
    return T0 + offset


def event(command: str, story_id: object, when: datetime, *, seq: int = 0) -> TimelineEvent:
    ms = int(when.timestamp() * 1000)
    return TimelineEvent(
        id=f"{ms}-{seq}", ts=when, actor="system", command=command, payload={"story_id": story_id}
    )


def story(story_id: str, points: int | None = 3, status: StoryStatus = DONE) -> Story:
    return Story(
        id=story_id, project_id="p", title=f"Title {story_id}", points=points, status=status
    )


def sprint(
    story_ids: list[str],
    *,
    start: datetime | None = T0,
    end: datetime | None = T0 + 3 * D,
    sprint_id: str = "sprint-1",
) -> Sprint:
    return Sprint(id=sprint_id, project_id="p", story_ids=story_ids, start_date=start, end_date=end)


def done_flow(story_id: str, offset: timedelta) -> StoryFlow:
    return StoryFlow(story_id, started_at=T0, done_at=at(offset))


# --- the timeline, per story -------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry_id", "ts", "expected"),
    [
        ("1709542800000-0", T0 + 5 * D, T0),  # the stream id wins over the producer's clock
        ("1709542800123-7", T0, T0 + timedelta(milliseconds=123)),
        ("", T0 + H, T0 + H),
        ("not-a-stream-id", T0 + H, T0 + H),
        ("", datetime(2024, 3, 4, 10, 0), T0 + H),  # naive is read as UTC
        ("", datetime(2024, 3, 4, 11, 0, tzinfo=UTC).astimezone(), T0 + 2 * H),
    ],
)
def test_event_time_prefers_the_stream_id(entry_id: str, ts: datetime, expected: datetime) -> None:
    e = TimelineEvent(id=entry_id, ts=ts, actor="a", command="tool")
    assert event_time(e) == expected


def test_story_flows_take_the_earliest_start_the_latest_done_and_count_trouble() -> None:
    events = [
        event("story_done", "s1", at(5 * H)),
        event("tdd start", "s1", at(2 * H)),
        event("tdd start", "s1", at(1 * H)),
        event("phase refused", "s1", at(3 * H)),
        event("phase refused", "s1", at(3 * H), seq=1),
        event("task_blocked", "s1", at(4 * H)),
        event("sprint_completed", "s1", at(6 * H)),
        event("phase passed", "s1", at(7 * H)),  # not tracked
        event("tool", "s1", at(8 * H)),  # not tracked
        event("tdd start", 42, at(0 * H)),  # not a story id
        event("sprint_completed", "s2", at(2 * H)),
    ]
    flows = story_flows(events)
    assert flows == {
        "s1": StoryFlow("s1", started_at=at(H), done_at=at(6 * H), refusals=2, blocks=1),
        "s2": StoryFlow("s2", done_at=at(2 * H)),
    }
    assert flows["s1"].cycle_time == 5 * H


def test_events_without_a_story_id_are_ignored() -> None:
    e = TimelineEvent(id="1-0", actor="a", command="tdd start", payload={"cycle_id": "c"})
    assert story_flows([e]) == {}


@pytest.mark.parametrize(
    ("started", "done", "expected"),
    [
        (None, None, None),
        (T0, None, None),
        (None, T0, None),
        (T0, T0, timedelta(0)),
        (T0, T0 + 90 * timedelta(minutes=1), timedelta(minutes=90)),
        (T0 + H, T0, None),  # done before start: a skewed clock, ignored
    ],
)
def test_cycle_time_of_a_flow(
    started: datetime | None, done: datetime | None, expected: timedelta | None
) -> None:
    assert StoryFlow("s", started_at=started, done_at=done).cycle_time == expected


_tracked = st.sampled_from(["tdd start", "story_done", "phase refused", "task_blocked", "tool"])


@settings(database=None, max_examples=50)
@given(
    st.lists(
        st.tuples(_tracked, st.sampled_from(["a", "b", "c"]), st.integers(0, 10_000)),
        max_size=30,
    ),
    st.randoms(use_true_random=False),
)
def test_story_flows_do_not_depend_on_event_order(raw, rnd) -> None:
    events = [event(c, s, at(timedelta(minutes=m)), seq=i) for i, (c, s, m) in enumerate(raw)]
    shuffled = list(events)
    rnd.shuffle(shuffled)
    assert story_flows(shuffled) == story_flows(events)


# --- velocity ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stories", "story_ids", "expected"),
    [
        ([], [], SprintVelocity("sprint-1", 0, 0, 0, 0, 0)),
        (
            [
                story("a", 3),
                story("b", None),
                story("c", 5, StoryStatus.IN_PROGRESS),
                story("d", 2, StoryStatus.SKIPPED),
            ],
            ["a", "b", "c", "d"],
            SprintVelocity("sprint-1", 10, 3, 4, 2, 1),
        ),
        ([story("a", 0), story("b", 0)], ["a", "b"], SprintVelocity("sprint-1", 0, 0, 2, 2, 0)),
        # stories outside the sprint, ids with no story and duplicate ids are not counted
        (
            [story("a", 8), story("x", 13)],
            ["a", "a", "ghost"],
            SprintVelocity("sprint-1", 8, 8, 1, 1, 0),
        ),
        (
            [story("a", 5, StoryStatus.BLOCKED), story("b", 1, StoryStatus.REMOVED)],
            ["a", "b"],
            SprintVelocity("sprint-1", 6, 0, 2, 0, 0),
        ),
    ],
)
def test_sprint_velocity(
    stories: list[Story], story_ids: list[str], expected: SprintVelocity
) -> None:
    assert sprint_velocity(sprint(story_ids), stories) == expected


def test_velocity_orders_started_sprints_and_skips_planned_ones() -> None:
    stories = [story("a", 5), story("b", 8), story("c", 13)]
    sprints = [
        sprint(["b"], start=T0 + 14 * D, sprint_id="sprint-late"),
        sprint(["c"], start=None, end=None, sprint_id="sprint-planned"),
        sprint(["a"], start=T0, sprint_id="sprint-early"),
    ]
    rows = velocity(sprints, stories)
    assert [(r.sprint_id, r.completed_points) for r in rows] == [
        ("sprint-early", 5),
        ("sprint-late", 8),
    ]


def _rows(*completed: int) -> list[SprintVelocity]:
    return [SprintVelocity(f"s{i}", c, c, 1, 1, 0) for i, c in enumerate(completed)]


@pytest.mark.parametrize(
    ("completed", "window", "expected"),
    [
        ((), 3, 0.0),
        ((5,), 3, 5.0),
        ((1, 2, 3, 4), 3, 3.0),
        ((1, 2, 3, 4), 1, 4.0),
        ((1, 2, 3, 4), 10, 2.5),
        ((0, 0), 2, 0.0),
    ],
)
def test_mean_velocity(completed: tuple[int, ...], window: int, expected: float) -> None:
    assert mean_velocity(_rows(*completed), window) == expected


def test_mean_velocity_refuses_an_empty_window() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        mean_velocity(_rows(1), 0)


# --- burndown ----------------------------------------------------------------------------

FOUR_STORIES = [
    story("a", 3),
    story("b", 5),
    story("c", 2, StoryStatus.IN_PROGRESS),
    story("d", None),
]


def _remaining(days: tuple[BurndownDay, ...]) -> list[int]:
    return [d.remaining for d in days]


def test_burndown_draws_remaining_points_per_day_and_an_ideal_line() -> None:
    flows = {
        "a": done_flow("a", D + 2 * H),
        "b": done_flow("b", 3 * D),
        "c": StoryFlow("c", started_at=T0),
        "d": done_flow("d", H),
    }
    chart = burndown(sprint(["a", "b", "c", "d"]), FOUR_STORIES, flows)
    assert chart.committed == 10
    assert chart.completed == 8
    assert chart.days == (
        BurndownDay(date(2024, 3, 4), 10, 7.5),
        BurndownDay(date(2024, 3, 5), 7, 5.0),
        BurndownDay(date(2024, 3, 6), 7, 2.5),
        BurndownDay(date(2024, 3, 7), 2, 0.0),
    )


@pytest.mark.parametrize(
    ("flows", "expected"),
    [
        ({}, [10, 10, 10, 2]),  # done without a done event: on the last day
        ({"a": done_flow("a", -2 * D), "b": done_flow("b", -H)}, [2, 2, 2, 2]),  # before start
        ({"a": done_flow("a", 9 * D), "b": done_flow("b", 3 * D + 20 * H)}, [10, 10, 10, 2]),
        ({"c": done_flow("c", H)}, [10, 10, 10, 2]),  # a done event, but c is not done
    ],
)
def test_burndown_clamps_completions_to_the_sprint(
    flows: dict[str, StoryFlow], expected: list[int]
) -> None:
    chart = burndown(sprint(["a", "b", "c", "d"]), FOUR_STORIES, flows)
    assert _remaining(chart.days) == expected


def test_burndown_of_an_open_sprint_runs_to_as_of() -> None:
    flows = {"a": done_flow("a", H)}
    chart = burndown(sprint(["a", "c"], end=None), FOUR_STORIES, flows, as_of=T0 + D + H)
    assert _remaining(chart.days) == [2, 2]
    assert [d.ideal for d in chart.days] == [2.5, 0.0]


def test_burndown_of_an_open_sprint_needs_as_of() -> None:
    with pytest.raises(ValueError, match="still open"):
        burndown(sprint(["a"], end=None), FOUR_STORIES, {})


def test_burndown_refuses_a_sprint_ending_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        burndown(sprint(["a"], end=T0 - D), FOUR_STORIES, {})


def test_burndown_of_a_sprint_not_started_has_no_days() -> None:
    chart = burndown(sprint(["a", "b"], start=None, end=None), FOUR_STORIES, {})
    assert (chart.committed, chart.completed, chart.days) == (8, 0, ())


def test_burndown_of_an_empty_sprint_is_flat_at_zero() -> None:
    chart = burndown(sprint([]), [], {})
    assert _remaining(chart.days) == [0, 0, 0, 0]
    assert {d.ideal for d in chart.days} == {0.0}


def test_burndown_of_a_one_day_sprint_accepts_naive_dates() -> None:
    naive = datetime(2024, 3, 4, 9, 0)
    one_day = sprint(["a"], start=naive, end=naive + 8 * H)
    chart = burndown(one_day, [story("a", 3)], {"a": done_flow("a", 2 * H)})
    assert chart.days == (BurndownDay(date(2024, 3, 4), 0, 0.0),)


# --- cycle time and flow counts ----------------------------------------------------------


def test_cycle_times_count_only_done_stories_with_a_start() -> None:
    stories = [story("a"), story("b"), story("c", status=StoryStatus.IN_PROGRESS), story("d")]
    flows = {
        "a": done_flow("a", 4 * H),
        "b": StoryFlow("b", done_at=T0),  # never seen starting
        "c": done_flow("c", H),  # reopened since
    }
    assert cycle_times(stories, flows) == {"a": 4 * H}


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        ([], CycleTimeStats(0, None, None)),
        ([1], CycleTimeStats(1, H, H)),
        ([4, 1, 3, 2], CycleTimeStats(4, 2.5 * H, 4 * H)),
        ([1, 2, 3, 4, 5, 6, 7], CycleTimeStats(7, 4 * H, 6 * H)),
        (list(range(20, 0, -1)), CycleTimeStats(20, 10.5 * H, 17 * H)),
        ([0, 0, 100], CycleTimeStats(3, 0 * H, 100 * H)),
    ],
)
def test_cycle_time_stats(hours: list[int], expected: CycleTimeStats) -> None:
    assert cycle_time_stats(h * H for h in hours) == expected


def test_flow_counts_add_up_the_sprint_stories_only() -> None:
    flows = {
        "a": StoryFlow("a", refusals=2, blocks=1),
        "b": StoryFlow("b", refusals=1),
        "x": StoryFlow("x", refusals=7, blocks=7),
    }
    assert flow_counts(["a", "b", "a", "ghost"], flows) == FlowCounts(gate_refusals=3, blocks=1)
    assert flow_counts([], flows) == FlowCounts(0, 0)


# --- properties --------------------------------------------------------------------------

_points = st.one_of(st.none(), st.integers(0, 100))
_status = st.sampled_from(list(StoryStatus))
_done_offset = st.one_of(st.none(), st.integers(-3 * 24, 20 * 24))  # hours from sprint start


@st.composite
def sprints_with_stories(draw: st.DrawFn) -> tuple[Sprint, list[Story], dict[str, StoryFlow]]:
    specs = draw(st.lists(st.tuples(_points, _status, _done_offset), max_size=25))
    length = draw(st.integers(0, 15))
    stories = [story(f"s{i}", p, s) for i, (p, s, _) in enumerate(specs)]
    flows = {
        f"s{i}": done_flow(f"s{i}", offset * H)
        for i, (_, _, offset) in enumerate(specs)
        if offset is not None
    }
    return sprint([s.id for s in stories], end=T0 + length * D), stories, flows


@settings(database=None, max_examples=75)
@given(sprints_with_stories())
def test_burndown_never_rises_and_ends_where_the_stories_are(case) -> None:
    the_sprint, stories, flows = case
    chart = burndown(the_sprint, stories, flows)
    remaining = _remaining(chart.days)
    assert remaining == sorted(remaining, reverse=True)
    assert all(0 <= r <= chart.committed for r in remaining)
    row = sprint_velocity(the_sprint, stories)
    assert chart.completed + remaining[-1] == chart.committed == row.committed_points
    assert chart.completed == row.completed_points
    assert chart.days[-1].ideal == 0.0


@settings(database=None, max_examples=50)
@given(sprints_with_stories())
def test_velocity_of_one_sprint_is_its_done_points(case) -> None:
    the_sprint, stories, _ = case
    done_points = sum(s.points or 0 for s in stories if s.status is DONE)
    rows = velocity([the_sprint], stories)
    assert [r.completed_points for r in rows] == [done_points]
    assert mean_velocity(rows) == done_points


@settings(database=None, max_examples=75)
@given(st.lists(st.integers(0, 10**7), min_size=1, max_size=40))
def test_cycle_time_stats_stay_within_the_observed_range(seconds: list[int]) -> None:
    durations = [timedelta(seconds=s) for s in seconds]
    stats = cycle_time_stats(durations)
    assert stats.median is not None
    assert stats.p85 is not None
    assert min(durations) <= stats.median <= max(durations)
    assert stats.p85 in durations
    assert stats.median <= stats.p85
