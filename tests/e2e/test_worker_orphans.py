"""A worker killed mid-phase: its phase is retaken by another worker within 30 s, the story
still ends with exactly one commit per phase, and a frozen worker's late work is refused."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from arq.connections import ArqRedis

from shared.domain.tdd import CycleStatus
from shared.fakes.anthropic_server import FakeAnthropicServer
from shared.state.store import Store
from tests.e2e.worker_procs import (  # noqa: F401 - fixtures are found by name
    PHASE_COMMITS,
    cycle_of,
    fake_model_fixture,
    phase_commits,
    queue_fixture,
    stop_worker_mid_phase,
    store_fixture,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

RETAKE_BOUND_S = 30.0


@pytest.mark.timeout(300)
@pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGSTOP], ids=["killed", "frozen"])
async def test_a_phase_whose_worker_dies_is_retaken_and_finished_once(
    redis_url: str,
    store: Store,
    queue: ArqRedis,
    fake_model: FakeAnthropicServer,
    tmp_path: Path,
    stop_signal: signal.Signals,
) -> None:
    retake = await stop_worker_mid_phase(
        redis_url, store, queue, fake_model, tmp_path, stop_signal,
        retake_timeout_s=RETAKE_BOUND_S + 15,
    )  # fmt: skip

    assert retake.retaken_after_s <= RETAKE_BOUND_S
    assert phase_commits(retake.repo, retake.story_id) == PHASE_COMMITS
    done = await cycle_of(store, retake.story_id)
    assert done is not None
    assert done.status is CycleStatus.DONE
    assert all(e.gate_passed for e in done.evidence)
    if stop_signal is signal.SIGSTOP:  # woken up, the stale job gave up instead of writing
        stale = retake.stopped_log.read_text()
        assert "'lease lost'" in stale or "'fenced out'" in stale
