"""The chaos suite's settings and summary rows, without running any scenario."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtest.chaos_bundled import GatewayKillResult, WorkerKillResult
from loadtest.chaos_config import ChaosConfig
from loadtest.chaos_rows import gateway_rows, worker_rows
from loadtest.discord_failover import Failover


def test_settings_come_from_awf_chaos_variables() -> None:
    config = ChaosConfig.from_env(
        {
            "AWF_CHAOS_ONLY": "redis, api",
            "AWF_CHAOS_DOWN_S": "3.5",
            "AWF_CHAOS_RESULTS": "out/chaos.md",
        }
    )
    assert config.selected == ("REDIS", "API")
    assert config.down_s == 3.5
    assert config.results == Path("out/chaos.md")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"AWF_CHAOS_ONLY": "DISK"}, "AWF_CHAOS_ONLY"),
        ({"AWF_CHAOS_DOWN_S": "0"}, "AWF_CHAOS_DOWN_S"),
        ({"AWF_CHAOS_KILL_AFTER_S": "20", "AWF_CHAOS_LOAD_S": "10"}, "AWF_CHAOS_KILL_AFTER_S"),
        ({"AWF_CHAOS_CONCURRENCY": "1"}, "AWF_CHAOS_CONCURRENCY"),
        ({"AWF_CHAOS_GATEWAY_KILLS": "two"}, "AWF_CHAOS_GATEWAY_KILLS"),
    ],
)
def test_settings_that_cannot_bound_a_run_are_refused(env: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        ChaosConfig.from_env(env)


def test_a_duplicate_phase_commit_misses() -> None:
    twice = WorkerKillResult(12.0, ["DESIGN", "TEST_RED", "TEST_RED", "CODE_GREEN", "REFACTOR"])
    verdicts = {row.measurement: row.met for row in worker_rows(twice)}
    assert verdicts == {
        "phase retaken after SIGKILL": True,
        "phase commits on the story branch": False,
        "duplicate commits": False,
    }


def test_a_slow_failover_or_two_leaders_miss() -> None:
    slow = GatewayKillResult([Failover(1, 2, 12_000, 3)], overlapping_beacons=1)
    assert [row.met for row in gateway_rows(slow)] == [False, None, False]
