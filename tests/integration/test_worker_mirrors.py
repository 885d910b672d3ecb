"""One worker process, one mirror per project: a retaken phase runs beside its stale job, both
cloned from the same mirror, and only the job holding the cycle's fence pushes."""

from __future__ import annotations

from pathlib import Path

import pytest
from arq.connections import ArqRedis
from arq.jobs import Job
from structlog.testing import capture_logs

from shared.domain.models import ScrumState, Story
from shared.domain.tdd import CycleStatus, TDDCycle
from shared.fakes.anthropic_server import FakeAnthropicServer
from shared.fakes.fake_state import FaultKind
from shared.jobs.queue import deserialize, enqueue_all
from shared.jobs.specs import phase_job
from shared.platform.settings import Settings
from shared.state import keys
from shared.state.store import Store
from shared.workflow import cycles
from tests.integration.worker_fixtures import (  # noqa: F401 - fixtures are found by name
    Pool,
    fake_model_fixture,
    phase_commits,
    queue_fixture,
    running_workers,
    sample_repo_fixture,
    worker_settings_fixture,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(420)]

PID = "mirrored"
# The stale job's model call hangs this long: far longer than the retaken job needs to take
# the cycle (well under a second), after which the stale job can only be fenced out.
STALE_MODEL_DELAY_S = 15.0


async def cycle_of(pool: Pool, story_id: str) -> TDDCycle | None:
    story = await pool.store.get(Story, keys.entity(PID, "story", story_id))
    if story is None or not story.tdd_cycle_id:
        return None
    return await pool.store.get(TDDCycle, cycles.cycle_key(PID, story.tdd_cycle_id))


async def stale_job_waits_on_the_model(
    pool: Pool, fake_model: FakeAnthropicServer, story_id: str
) -> TDDCycle:
    async def waiting() -> TDDCycle | None:
        cycle = await cycle_of(pool, story_id)
        slow = fake_model.stats()["faults_applied"].get(FaultKind.SLOW.value)
        return cycle if cycle and cycle.status is CycleStatus.RUNNING and slow else None

    return await pool.until_value(waiting, timeout_s=60)


async def test_a_retaken_phase_beside_its_stale_job_in_one_worker_pushes_alone(
    store: Store,
    queue: ArqRedis,
    fake_model: FakeAnthropicServer,
    worker_settings: Settings,
    sample_repo: Path,
) -> None:
    fake_model.inject(FaultKind.SLOW, 1, delay_s=STALE_MODEL_DELAY_S)
    with capture_logs() as logs:
        async with running_workers(worker_settings, 1) as workers:
            pool = Pool(store, queue, worker_settings, workers)
            [story_id] = await pool.start_sprint(
                PID, sample_repo, ["Add two numbers"], mode="partial"
            )
            stale = await stale_job_waits_on_the_model(pool, fake_model, story_id)
            mirrors = workers[0].ctx["deps"].mirrors
            mirror = mirrors.mirror_path(str(sample_repo))
            assert mirror is not None
            made = mirror.stat().st_ino

            retake = await cycles.requeue(store, PID, stale.id)  # as reconcile does for a dead job
            assert retake is not None
            await enqueue_all(queue, [retake])
            stale_id = phase_job(PID, stale.id, "DESIGN", stale.run).job_id
            stale_job = Job(stale_id, queue, _deserializer=deserialize)
            stale_result = await stale_job.result(timeout=STALE_MODEL_DELAY_S + 60)

            async def in_review() -> bool:
                return (await pool.project(PID)).state is ScrumState.SPRINT_REVIEW

            await pool.until(in_review, timeout_s=240)

            assert mirrors.mirror_path(str(sample_repo)) == mirror
            assert mirror.stat().st_ino == made  # every phase, both DESIGN jobs: one mirror
            assert [p.name for p in mirror.parent.iterdir()] == [mirror.name]

    assert stale_result == "fenced out"
    assert "phase_fenced_out_before_push" in [e["event"] for e in logs]
    assert phase_commits(sample_repo, story_id) == ["DESIGN", "TEST_RED", "CODE_GREEN", "REFACTOR"]
    done = await cycle_of(pool, story_id)
    assert done is not None
    assert done.status is CycleStatus.DONE
    assert all(e.gate_passed for e in done.evidence)
