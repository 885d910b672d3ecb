"""A draining worker (SIGTERM, here `start_draining`) takes no new job; a phase still in its agent
is handed to the next run at once, not counted as an attempt; a phase already committing its
result is finished and recorded, not handed over (its push cannot be taken back)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from services.worker.drain import start_draining
from shared.agents.workspace import Workspace
from shared.domain.models import Story
from shared.domain.tdd import CycleStatus, TDDCycle
from shared.fakes.fake_state import FaultKind
from shared.jobs.specs import phase_job
from shared.state import keys
from shared.workflow import cycles
from tests.factories import timeline_events
from tests.integration.worker_fixtures import (  # noqa: F401 - fixtures are found by name
    Pool,
    fake_model_fixture,
    phase_commits,
    queue_fixture,
    running_workers,
    sample_repo_fixture,
    worker_settings_fixture,
)

if TYPE_CHECKING:
    from arq.connections import ArqRedis
    from arq.worker import Worker

    from shared.fakes.anthropic_server import FakeAnthropicServer
    from shared.platform.settings import Settings
    from shared.state.store import Store

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(120)]

PID = "draining"


async def cycle_of(store: Store, story_id: str) -> TDDCycle | None:
    story = await store.get(Story, keys.entity(PID, "story", story_id))
    if story is None or not story.tdd_cycle_id:
        return None
    return await store.get(TDDCycle, cycles.cycle_key(PID, story.tdd_cycle_id))


async def cycle_when(pool: Pool, story_id: str, accept: Any) -> TDDCycle:
    async def found() -> TDDCycle | None:
        cycle = await cycle_of(pool.store, story_id)
        return cycle if cycle is not None and accept(cycle) else None

    return await pool.until_value(found, timeout_s=60)


async def stopped(worker: Worker) -> None:
    """Until the drained worker's poll loop has ended (arq ends it once no job is left)."""
    async with asyncio.timeout(30):
        while worker.main_task is None or not worker.main_task.done():
            await asyncio.sleep(0.05)


async def handed_over(store: Store) -> list[tuple[str, int]]:
    events = await timeline_events(store, PID)
    return [
        (e.payload["phase"], e.payload["run"]) for e in events if e.command == "phase handed over"
    ]


async def hanging(fake_model: FakeAnthropicServer) -> bool:
    return bool(fake_model.stats()["faults_applied"].get(FaultKind.SLOW.value) == 1)


async def test_a_phase_in_its_agent_is_handed_to_the_next_run_at_once(
    store: Store,
    queue: ArqRedis,
    worker_settings: Settings,
    fake_model: FakeAnthropicServer,
    sample_repo: Path,
) -> None:
    fake_model.inject(FaultKind.SLOW, 1, delay_s=60)  # the agent's first model call hangs
    async with running_workers(worker_settings, 1) as (worker,):
        pool = Pool(store, queue, worker_settings, [worker])
        (story_id,) = await pool.start_sprint(PID, sample_repo, ["Add two numbers"])
        taken = await cycle_when(pool, story_id, lambda c: c.status is CycleStatus.RUNNING)
        await pool.until(lambda: hanging(fake_model))

        start_draining(worker, signal.SIGTERM)
        queued = await cycle_when(pool, story_id, lambda c: c.status is CycleStatus.QUEUED)
        await stopped(worker)

    assert (queued.phase, queued.run, queued.attempt()) == (taken.phase, taken.run + 1, 0)
    assert queued.evidence == []
    assert await handed_over(store) == [("DESIGN", taken.run + 1)]
    next_job = phase_job(PID, queued.id, "DESIGN", queued.run).job_id
    assert await queue.zscore(keys.ARQ_QUEUE, next_job) is not None  # left for another worker

    async with running_workers(worker_settings, 1):  # another worker resumes the phase
        designed = await cycle_when(pool, story_id, lambda c: bool(c.evidence))
    assert [(e.phase, e.attempt, e.gate_passed) for e in designed.evidence] == [("DESIGN", 1, True)]
    assert phase_commits(sample_repo, story_id).count("DESIGN") == 1


async def test_a_phase_committing_its_result_is_finished_not_handed_over(
    store: Store,
    queue: ArqRedis,
    worker_settings: Settings,
    sample_repo: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with running_workers(worker_settings, 1) as (worker,):
        commit = Workspace.commit

        async def commit_while_draining(ws: Workspace, message: str) -> str | None:
            start_draining(worker, signal.SIGTERM)  # SIGTERM lands as the phase commits
            return await commit(ws, message)

        monkeypatch.setattr(Workspace, "commit", commit_while_draining)
        pool = Pool(store, queue, worker_settings, [worker])
        (story_id,) = await pool.start_sprint(PID, sample_repo, ["Add two numbers"])
        taken = await cycle_when(pool, story_id, lambda c: c.status is CycleStatus.RUNNING)
        await stopped(worker)

    done = await cycle_of(store, story_id)
    assert done is not None
    assert [(e.phase, e.attempt, e.gate_passed) for e in done.evidence] == [("DESIGN", 1, True)]
    # the next phase waits for another worker: the draining one took no new job
    assert (done.phase, done.status, done.run) == ("TEST_RED", CycleStatus.QUEUED, taken.run + 1)
    assert await handed_over(store) == []
    assert phase_commits(sample_repo, story_id) == ["DESIGN"]
