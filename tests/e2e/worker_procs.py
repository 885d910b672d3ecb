"""Worker processes on the scripted model, and a one-story sprint for them to run: the parts the
worker e2e tests share. Import the fixtures by name into a test module (pytest finds them there).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from arq.connections import ArqRedis
from redis.asyncio import Redis

from services.cli.sample_repo import make_sample_repo
from shared.domain.models import Project, ScrumState, Story
from shared.domain.tdd import CycleStatus, TDDCycle
from shared.fakes.anthropic_server import FakeAnthropicServer
from shared.fakes.fake_state import FaultKind
from shared.jobs.queue import create_queue, enqueue_all
from shared.state import keys
from shared.state.store import Store
from shared.workflow import cycles
from tests.factories import APPROVER, run
from tests.integration.worker_fixtures import phase_commits

__all__ = [
    "PHASE_COMMITS",
    "PID",
    "WORKER_CONFIG",
    "Retake",
    "cycle_of",
    "fake_model_fixture",
    "in_review",
    "model_call_hanging",
    "phase_commits",
    "queue_fixture",
    "start_one_story_sprint",
    "stop_worker_mid_phase",
    "store_fixture",
    "wait_for_cycle",
    "worker_process",
]

PID = "orphans"
PHASE_COMMITS = ["DESIGN", "TEST_RED", "CODE_GREEN", "REFACTOR"]
WORKER_CONFIG = "agents: {max_turns: 12, test_timeout_s: 60}\n"


@pytest.fixture(name="fake_model")
def fake_model_fixture() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as server:
        yield server


@pytest.fixture(name="store")
def store_fixture(redis: Redis) -> Store:
    return Store(redis)


@pytest.fixture(name="queue")
async def queue_fixture(redis_url: str, store: Store) -> AsyncIterator[ArqRedis]:
    queue = await create_queue(redis_url)
    yield queue
    await queue.aclose()


@contextmanager
def worker_process(
    redis_url: str, model_url: str, tmp: Path, config_text: str = WORKER_CONFIG
) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """`python -m services.worker` on the scripted model; its stderr goes to the log file."""
    config = tmp / f"worker-{time.monotonic_ns()}.yml"
    config.write_text(config_text)
    env = {
        **os.environ,
        "REDIS_URL": redis_url,
        "ANTHROPIC_BASE_URL": model_url,
        "AWF_ENV": "test",
        "AWF_CONFIG": str(config),
    }
    env.pop("ANTHROPIC_API_KEY", None)
    log_path = tmp / f"worker-{time.monotonic_ns()}.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        yield proc, log_path
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


async def start_one_story_sprint(store: Store, queue: ArqRedis, repo: Path) -> str:
    await run(store, "project register", {"repo_url": str(repo), "id": PID, "mode": "partial"})
    await run(store, "project start", {"project": PID})
    epic = await run(
        store,
        "epic",
        {"description": "Add", "stories": [{"title": "Add two numbers"}]},
        project_id=PID,
    )
    story_id: str = epic.result["proposed_story_ids"][0]
    await run(store, "approve", {"ids": [story_id]}, project_id=PID, actor=APPROVER)
    await run(store, "sprint plan", {"story_ids": [story_id]}, project_id=PID)
    started = await run(store, "sprint start", project_id=PID)
    await enqueue_all(queue, started.jobs)
    return story_id


async def cycle_of(store: Store, story_id: str) -> TDDCycle | None:
    story = await store.get(Story, keys.entity(PID, "story", story_id))
    if story is None or not story.tdd_cycle_id:
        return None
    return await store.get(TDDCycle, cycles.cycle_key(PID, story.tdd_cycle_id))


async def wait_for_cycle(
    store: Store, story_id: str, accept: Callable[[TDDCycle], bool], timeout_s: float
) -> TDDCycle:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        cycle = await cycle_of(store, story_id)
        if cycle is not None and accept(cycle):
            return cycle
        await asyncio.sleep(0.1)
    raise AssertionError(
        f"cycle not as expected within {timeout_s}s: {await cycle_of(store, story_id)}"
    )


async def in_review(store: Store, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        project = await store.get(Project, keys.project(PID))
        if project and project.state is ScrumState.SPRINT_REVIEW:
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the sprint did not reach review")


async def model_call_hanging(fake_model: FakeAnthropicServer) -> None:
    async with asyncio.timeout(60):
        while fake_model.stats()["faults_applied"].get(FaultKind.SLOW.value) != 1:
            await asyncio.sleep(0.05)


@dataclass(frozen=True)
class Retake:
    story_id: str
    repo: Path
    retaken_after_s: float  # from the signal until another worker ran the phase again
    stopped_log: Path  # the stopped worker's log


async def stop_worker_mid_phase(
    redis_url: str,
    store: Store,
    queue: ArqRedis,
    fake_model: FakeAnthropicServer,
    tmp: Path,
    stop_signal: signal.Signals,
    *,
    retake_timeout_s: float = 45.0,
    review_timeout_s: float = 120.0,
) -> Retake:
    """A one-story sprint whose first model call hangs; `stop_signal` hits its worker then, a
    second worker retakes the phase and the sprint runs to its review (the frozen one woken up)."""
    repo = make_sample_repo(tmp / "calculator")
    fake_model.inject(FaultKind.SLOW, 1, delay_s=120)  # the first model call hangs
    with worker_process(redis_url, fake_model.base_url, tmp) as (first, first_log):
        story_id = await start_one_story_sprint(store, queue, repo)
        taken = await wait_for_cycle(
            store, story_id, lambda c: c.status is CycleStatus.RUNNING, timeout_s=60
        )
        await model_call_hanging(fake_model)
        with worker_process(redis_url, fake_model.base_url, tmp):
            first.send_signal(stop_signal)
            stopped_at = time.monotonic()
            await wait_for_cycle(
                store,
                story_id,
                lambda c: c.run > taken.run and c.status is not CycleStatus.QUEUED,
                timeout_s=retake_timeout_s,
            )
            retaken_after_s = time.monotonic() - stopped_at
            if stop_signal is signal.SIGSTOP:
                first.send_signal(signal.SIGCONT)  # the frozen worker wakes up with stale work
            await in_review(store, timeout_s=review_timeout_s)
    return Retake(story_id, repo, retaken_after_s, first_log)
