"""A running arq worker pool on the test Redis, pointed at the fake Anthropic server.

Import the fixtures by name into a test module (pytest finds them there).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import subprocess
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, TypeVar

import pytest
from arq.connections import ArqRedis
from arq.worker import Worker

from services.cli.sample_repo import make_sample_repo
from services.worker.drain import create_draining_worker
from services.worker.main import build_worker_settings
from shared.domain.models import Project
from shared.fakes.anthropic_server import FakeAnthropicServer
from shared.jobs.queue import create_queue, enqueue_all
from shared.platform.settings import Settings, load_settings
from shared.state import keys
from shared.state.store import Store
from shared.workflow.context import CommandOutcome
from tests.factories import ADMIN, APPROVER, run

__all__ = [
    "Pool",
    "fake_model_fixture",
    "phase_commits",
    "pool_fixture",
    "queue_fixture",
    "sample_repo_fixture",
    "worker_settings_fixture",
]

T = TypeVar("T")


@pytest.fixture(scope="module", name="fake_model")
def fake_model_fixture() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as server:
        yield server


@pytest.fixture(name="worker_settings")
def worker_settings_fixture(
    redis_url: str, fake_model: FakeAnthropicServer, tmp_path: Path
) -> Settings:
    config = tmp_path / "config.yml"
    config.write_text("agents: {max_turns: 12, test_timeout_s: 60}\n")
    return load_settings(
        config, awf_env="test", redis_url=redis_url, anthropic_base_url=fake_model.base_url
    )


@pytest.fixture(name="sample_repo")
def sample_repo_fixture(tmp_path: Path) -> Path:
    return make_sample_repo(tmp_path / "calculator")


@pytest.fixture(name="queue")
async def queue_fixture(redis_url: str, redis: Any) -> AsyncIterator[ArqRedis]:
    queue = await create_queue(redis_url)
    try:
        yield queue
    finally:
        await queue.aclose()


@dataclass
class Pool:
    """Worker processes in this event loop, plus the way a caller drives commands to them."""

    store: Store
    queue: ArqRedis
    settings: Settings
    workers: list[Worker]

    async def command(
        self, command: str, args: dict[str, Any] | None = None, **kw: Any
    ) -> CommandOutcome:
        """Like the API: execute, then enqueue the jobs the command asked for."""
        outcome = await run(self.store, command, args, actor=kw.pop("actor", ADMIN), **kw)
        await enqueue_all(self.queue, outcome.jobs)
        return outcome

    async def start_sprint(
        self, project_id: str, repo: Path, titles: list[str], **register: str
    ) -> list[str]:
        """A started project (partial unless `register` says otherwise) whose running sprint
        holds one approved story per title; the story ids."""
        args = {"repo_url": str(repo), "id": project_id, "mode": "partial", **register}
        await self.command("project register", args)
        await self.command("project start", {"project": project_id})
        epic = await self.command(
            "epic",
            {"description": "Arithmetic", "stories": [{"title": t} for t in titles]},
            project_id=project_id,
        )
        ids: list[str] = epic.result["proposed_story_ids"]
        await self.command("approve", {"ids": ids}, project_id=project_id, actor=APPROVER)
        await self.command("sprint plan", {"story_ids": ids}, project_id=project_id)
        await self.command("sprint start", project_id=project_id)
        return ids

    async def until(
        self, what: Callable[[], Awaitable[bool]], timeout_s: float = 90.0, step_s: float = 0.1
    ) -> None:
        async def reached() -> bool | None:
            return True if await what() else None

        await self.until_value(reached, timeout_s, step_s)

    def running_jobs(self) -> str:
        """Where each job still running is waiting, for a timeout's report: the coroutines of
        every task of this loop suspended in our code (arq runs a job in a task of its own)."""
        running = [job for worker in self.workers for job in worker.tasks]
        lines = [f"running jobs: {running or 'none'}"]
        for task in asyncio.all_tasks():
            chain = _await_chain(task.get_coro())
            if any("/services/" in where or "/shared/" in where for where in chain):
                lines.append(f"task {task.get_name()}:")
                lines += [f"  {where}" for where in chain]
        return "\n".join(lines)

    async def until_value(
        self, what: Callable[[], Awaitable[T | None]], timeout_s: float = 90.0, step_s: float = 0.1
    ) -> T:
        try:
            async with asyncio.timeout(timeout_s):
                while (value := await what()) is None:
                    await asyncio.sleep(step_s)
                return value
        except TimeoutError:
            raise TimeoutError(f"not reached in {timeout_s} s\n{self.running_jobs()}") from None

    async def project(self, project_id: str) -> Project:
        found = await self.store.get(Project, keys.project(project_id))
        assert found is not None
        return found


@contextlib.asynccontextmanager
async def running_workers(settings: Settings, count: int) -> AsyncIterator[list[Worker]]:
    cls = build_worker_settings(settings)
    # as in production, each with a drain flag (set only by `start_draining`: no signals here)
    workers = [create_draining_worker(cls, handle_signals=False) for _ in range(count)]
    tasks = [asyncio.create_task(w.async_run()) for w in workers]
    try:
        yield workers
    finally:
        await _stop(workers, tasks)


async def _stop(workers: list[Worker], tasks: list[asyncio.Task[None]]) -> None:
    # Cancelling arq's poll loop can interrupt a redis pipeline's reset, which redis-py reports
    # as an unclosed-session ResourceWarning when the frame is freed; arq 0.26 also calls
    # redis' deprecated close(). Both belong to the libraries' shutdown, not to our code.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        for t in tasks:
            t.cancel()  # stops polling; jobs already running go on
        await asyncio.gather(*tasks, return_exceptions=True)
        for w in workers:
            async with asyncio.timeout(60):
                await asyncio.gather(*w.tasks.values(), return_exceptions=True)
            await w.close()
        # the cancelled tasks' tracebacks keep the interrupted pipelines alive: free them here
        for w in workers:
            w.main_task = None
            w.tasks.clear()
        tasks.clear()
        gc.collect()


@pytest.fixture(name="pool")
async def pool_fixture(
    store: Store, queue: ArqRedis, worker_settings: Settings
) -> AsyncIterator[Pool]:
    async with running_workers(worker_settings, 2) as workers:
        yield Pool(store, queue, worker_settings, workers)


def phase_commits(repo: Path, story_id: str) -> list[str]:
    """The phases committed on a story's branch, oldest first (from the commit subjects)."""
    log = subprocess.run(
        ["git", "log", "--format=%s", f"main..awf/{story_id}"],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    return [line.split(":")[1].split(" - ")[0].strip() for line in reversed(log.splitlines())]


def _await_chain(awaitable: Any) -> list[str]:
    """file:line function of each coroutine a task is suspended in, outermost first."""
    chain: list[str] = []
    while awaitable is not None and len(chain) < 60:
        frame: FrameType | None = getattr(awaitable, "cr_frame", None)
        if frame is None:
            chain.append(repr(awaitable)[:200])
            break
        chain.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
        awaitable = getattr(awaitable, "cr_await", None)
    return chain
