"""A worker stopped with SIGTERM mid-phase (a rolling update, a scale-down): it hands the phase to
the other worker at once and exits 0, well inside its drain timeout; the phase is finished there,
once, with one commit per phase and every phase's evidence recorded as a first attempt."""

from __future__ import annotations

import asyncio
import signal
import subprocess
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
    PID,
    WORKER_CONFIG,
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
from tests.factories import timeline_events

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DRAIN_TIMEOUT_S = 60  # what the workers would give a job that does not hand over
CONFIG = WORKER_CONFIG + f"orchestrator: {{drain_timeout_s: {DRAIN_TIMEOUT_S}}}\n"
# requirement: the phase resumes elsewhere promptly, before an orphaned phase could be retaken
# (its 15 s lease) and long before the drain timeout. The hand-over itself takes milliseconds.
RESUMED_BOUND_S = 15.0


async def worker_started(log: Path) -> None:
    """Until the worker process has started polling the queue (both share one host's health key)."""
    async with asyncio.timeout(60):
        while "Starting worker for" not in log.read_text(errors="replace"):
            await asyncio.sleep(0.1)


async def exit_code(process: subprocess.Popen[bytes], timeout_s: float) -> int:
    return await asyncio.to_thread(process.wait, timeout_s)


@pytest.mark.timeout(240)
async def test_a_worker_stopped_mid_phase_hands_it_over_and_exits_0(
    redis_url: str,
    store: Store,
    queue: ArqRedis,
    fake_model: FakeAnthropicServer,
    tmp_path: Path,
) -> None:
    repo = make_sample_repo(tmp_path / "calculator")
    fake_model.inject(FaultKind.SLOW, 1, delay_s=120)  # the first model call hangs
    model = fake_model.base_url
    with worker_process(redis_url, model, tmp_path, CONFIG) as (first, first_log):
        story_id = await start_one_story_sprint(store, queue, repo)
        taken = await wait_for_cycle(
            store, story_id, lambda c: c.status is CycleStatus.RUNNING, timeout_s=60
        )
        await model_call_hanging(fake_model)
        with worker_process(redis_url, model, tmp_path, CONFIG) as (_second, second_log):
            await worker_started(second_log)
            first.send_signal(signal.SIGTERM)
            stopped_at = time.monotonic()
            await wait_for_cycle(
                store,
                story_id,
                lambda c: c.run == taken.run + 1 and c.status is CycleStatus.RUNNING,
                timeout_s=RESUMED_BOUND_S + 30,
            )
            resumed_after_s = time.monotonic() - stopped_at
            code = await exit_code(first, DRAIN_TIMEOUT_S + 15)
            exited_after_s = time.monotonic() - stopped_at
            await in_review(store, timeout_s=120)

    assert code == 0, first_log.read_text()[-3000:]
    assert exited_after_s < DRAIN_TIMEOUT_S, "the worker waited for its phase instead of handing it"
    assert resumed_after_s < RESUMED_BOUND_S
    assert "'handed over'" in first_log.read_text()
    assert phase_commits(repo, story_id) == PHASE_COMMITS
    done = await cycle_of(store, story_id)
    assert done is not None
    assert done.status is CycleStatus.DONE
    assert [(e.phase, e.attempt, e.gate_passed) for e in done.evidence] == [
        (phase, 1, True) for phase in [*PHASE_COMMITS, "COMMIT"]
    ]
    handed = [e for e in await timeline_events(store, PID) if e.command == "phase handed over"]
    assert [(e.payload["phase"], e.payload["run"]) for e in handed] == [("DESIGN", taken.run + 1)]
