"""One of two API replicas SIGKILLed under load (writes and reads, balanced round-robin): no
5xx, no answer lost beyond the requests the victim had in flight, no acknowledged write lost,
and the project's versions stay one per write, in order.

The small form of the chaos suite's API scenario (`uv run python -m loadtest.chaos`).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtest.chaos_api import run_api_kill
from loadtest.chaos_config import ChaosConfig
from loadtest.chaos_http import Kind

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(120)]


async def test_killing_a_replica_under_load_loses_no_update(tmp_path: Path) -> None:
    config = ChaosConfig(load_s=6.0, kill_after_s=2.5, concurrency=4)
    result = await run_api_kill(config, tmp_path)

    assert result.tally.counts[Kind.SERVER_ERROR] == 0, result.tally.server_errors
    assert result.in_flight_failed <= result.in_flight_at_kill
    assert result.acked_writes > 0
    assert result.lost_updates == 0
    assert result.duplicate_versions == 0
    assert result.versions_contiguous
    assert result.not_sent > 0  # the load went on after the kill, to the surviving replica
