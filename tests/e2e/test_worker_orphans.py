"""A worker killed mid-phase: its phase is retaken by another worker within 30 s, the story
still ends with exactly one commit per phase, and a frozen worker's late work is refused."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from arq.connections import ArqRedis

from services.cli.sample_repo import make_sample_repo
from shared.domain.tdd import CycleStatus
from shared.fakes.anthropic_server import FakeAnthropicServer
from shared.fakes.fake_state import FaultKind
from shared.state.store import Store
from tests.e2e.worker_procs import (  # noqa: F401 - fixtures are found by name
    PHASE_COMMITS,
    cycle_of,
    fake_model_fixture,
    in_review,
    model_call_hanging,
    phase_commits,
    queue_fixture,
    start_one_story_sprint,
    store_fixture,
    wait_for_cycle,
    worker_process,
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
    repo = make_sample_repo(tmp_path / "calculator")
    fake_model.inject(FaultKind.SLOW, 1, delay_s=120)  # the first model call hangs
    with worker_process(redis_url, fake_model.base_url, tmp_path) as (first, first_log):
        story_id = await start_one_story_sprint(store, queue, repo)
        taken = await wait_for_cycle(
            store, story_id, lambda c: c.status is CycleStatus.RUNNING, timeout_s=60
        )
        await model_call_hanging(fake_model)
        with worker_process(redis_url, fake_model.base_url, tmp_path) as _second:
            first.send_signal(stop_signal)
            stopped_at = time.monotonic()
            await wait_for_cycle(
                store,
                story_id,
                lambda c: c.run > taken.run and c.status is not CycleStatus.QUEUED,
                timeout_s=RETAKE_BOUND_S + 15,
            )
            retaken_after_s = time.monotonic() - stopped_at
            if stop_signal is signal.SIGSTOP:
                first.send_signal(signal.SIGCONT)  # the frozen worker wakes up with stale work
            await in_review(store, timeout_s=120)

    assert retaken_after_s <= RETAKE_BOUND_S
    assert phase_commits(repo, story_id) == PHASE_COMMITS
    done = await cycle_of(store, story_id)
    assert done is not None
    assert done.status is CycleStatus.DONE
    assert all(e.gate_passed for e in done.evidence)
    if stop_signal is signal.SIGSTOP:  # woken up, the stale job gave up instead of writing
        stale = first_log.read_text()
        assert "'lease lost'" in stale or "'fenced out'" in stale
