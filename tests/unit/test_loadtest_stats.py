"""The load test's arithmetic: percentiles, summaries, ratios and goals. No clocks, no I/O."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loadtest.config import BenchConfig, env_name
from loadtest.stats import Goal, percentile, ratio, summarize

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 0, 5.0),
        ([5.0], 50, 5.0),
        ([5.0], 100, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0], 50, 3.0),
        ([1.0, 2.0, 3.0, 4.0, 5.0], 25, 2.0),
        ([10.0, 20.0], 95, 19.5),
        (list(map(float, range(1, 101))), 99, 99.01),
        (list(map(float, range(1, 101))), 95, 95.05),
    ],
)
def test_percentile_interpolates_between_closest_ranks(
    values: list[float], q: float, expected: float
) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_does_not_need_sorted_input_nor_change_it() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 50) == 2.5
    assert values == [4.0, 1.0, 3.0, 2.0]


def test_percentile_of_nothing_is_nan() -> None:
    assert math.isnan(percentile([], 50))


@pytest.mark.parametrize("q", [-1, 100.5])
def test_percentile_outside_0_100_is_refused(q: float) -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        percentile([1.0], q)


@settings(database=None)
@given(st.lists(finite, min_size=1, max_size=50), st.floats(0, 100), st.floats(0, 100))
def test_percentile_is_monotonic_and_bounded(values: list[float], q1: float, q2: float) -> None:
    low, high = sorted((q1, q2))
    assert min(values) <= percentile(values, low) <= percentile(values, high) <= max(values)


def test_percentile_matches_numpy_linear_definition_on_random_samples() -> None:
    rng = random.Random(7)
    values = [rng.expovariate(1.0) for _ in range(101)]
    ordered = sorted(values)
    # with 101 values, rank q lands exactly on element q: no interpolation needed
    for q in (0, 1, 50, 95, 99, 100):
        assert percentile(values, q) == ordered[q]


@pytest.mark.parametrize(
    ("ours", "floor", "expected"),
    [(800.0, 1000.0, 0.8), (3.0, 2.0, 1.5), (0.0, 5.0, 0.0)],
)
def test_ratio_is_ours_over_floor(ours: float, floor: float, expected: float) -> None:
    assert ratio(ours, floor) == pytest.approx(expected)


@pytest.mark.parametrize(("ours", "floor"), [(1.0, 0.0), (math.nan, 1.0), (1.0, math.nan)])
def test_ratio_without_a_usable_floor_is_nan(ours: float, floor: float) -> None:
    assert math.isnan(ratio(ours, floor))


@pytest.mark.parametrize(
    ("goal", "value", "met"),
    [
        (Goal(">=", 0.8), 0.8, True),
        (Goal(">=", 0.8), 0.79, False),
        (Goal(">=", 0.8), 5.0, True),
        (Goal("<=", 1.3), 1.3, True),
        (Goal("<=", 1.3), 1.31, False),
        (Goal("<=", 0), 0.0, True),
        (Goal("<=", 0), 1.0, False),
        (Goal(">=", 0.5), math.nan, False),
        (Goal("<=", 1.3), math.nan, False),
    ],
)
def test_goal(goal: Goal, value: float, met: bool) -> None:
    assert goal.met(value) is met


def test_goal_reads_like_the_table() -> None:
    assert str(Goal(">=", 0.8)) == ">= 0.8"
    assert str(Goal("<=", 1.3)) == "<= 1.3"


def test_summarize_converts_to_milliseconds_and_counts() -> None:
    summary = summarize([0.001, 0.002, 0.003, 0.004], ok=3, errors=1, wall_s=2.0)
    assert summary.count == 4
    assert summary.p50_ms == pytest.approx(2.5)
    assert summary.max_ms == pytest.approx(4.0)
    assert summary.mean_ms == pytest.approx(2.5)
    assert summary.throughput == pytest.approx(1.5)  # successes only, per wall second


def test_summarize_empty_run() -> None:
    summary = summarize([], ok=0, errors=0, wall_s=0.0)
    assert math.isnan(summary.p99_ms)
    assert math.isnan(summary.throughput)


def test_config_defaults_are_the_documented_ones() -> None:
    config = BenchConfig.from_env({})
    assert (config.duration_s, config.concurrency, config.writers) == (4.0, 32, 50)
    assert (config.rounds, config.only) == (6, "P1,P2,P3,P7")
    assert (config.small_backlog, config.large_backlog) == (10, 10_000)


def test_config_reads_the_environment() -> None:
    env = {
        "AWF_BENCH_DURATION_S": "1.5",
        "AWF_BENCH_CONCURRENCY": "8",
        "AWF_BENCH_REQUESTS": "1_000",
        "AWF_BENCH_WRITERS": "10",
        "AWF_BENCH_ONLY": "p2, P3",
    }
    config = BenchConfig.from_env(env)
    assert (config.duration_s, config.concurrency, config.max_requests) == (1.5, 8, 1000)
    assert config.writers == 10
    assert config.selected == ("P2", "P3")
    assert env_name("max_requests") == "AWF_BENCH_REQUESTS"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AWF_BENCH_DURATION_S", "0", "AWF_BENCH_DURATION_S must be positive"),
        ("AWF_BENCH_REQUESTS", "-5", "AWF_BENCH_REQUESTS must be positive"),
        ("AWF_BENCH_CONCURRENCY", "many", "not a valid int"),
        ("AWF_BENCH_SMALL_BACKLOG", "3", "at least 5"),
        ("AWF_BENCH_ONLY", "P4", "choose among"),
    ],
)
def test_config_refuses_unbounded_or_garbled_values(name: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BenchConfig.from_env({name: value})
