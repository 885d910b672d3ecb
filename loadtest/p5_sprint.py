"""P5's workload: one real sprint, driven like the API drives it, run by probed in-process workers.

The sample calculator repository (`services.cli.sample_repo`), the fake Anthropic server (a
process of its own, so its CPU does not share this process' GIL), real git, real pytest. The
commands go through the real executor; their jobs are enqueued with our `enqueue_all`. The
workers are `build_worker_settings(settings)` with each job function wrapped by `probed`.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from arq.worker import Worker, create_worker, func

from loadtest.phase_probe import JobSample, probed, probing
from services.cli.sample_repo import make_sample_repo
from services.worker.main import build_worker_settings
from shared.domain.commands import Role
from shared.domain.models import Project, ScrumState, Story
from shared.domain.tdd import TDDCycle
from shared.fakes.scripts.ops import OPS
from shared.jobs.queue import create_queue, enqueue_all
from shared.platform.settings import Settings, load_settings
from shared.state import keys
from shared.state.store import Store
from shared.workflow import cycles
from shared.workflow.context import Actor, CommandRequest, Limits
from shared.workflow.executor import execute

if TYPE_CHECKING:
    from arq.connections import ArqRedis

    from loadtest.worker_scenario import WorkerBench

__all__ = ["PROJECT", "SprintRun", "run_sprint", "sprint_settings"]

T = TypeVar("T")
PROJECT = "wbench"
_DRAIN_S = 20.0
_ACTOR = Actor("loadtest", Role.ADMIN)


@dataclass(frozen=True)
class SprintRun:
    samples: list[JobSample]
    stories: int
    wall_s: float
    stalled: str | None = None  # where the sprint stood when it ran out of time


def sprint_settings(wb: WorkerBench) -> Settings:
    config = wb.workdir / "p5-config.yml"
    config.write_text("agents: {max_turns: 12, test_timeout_s: 60}\n")
    return load_settings(
        config,
        awf_env="test",
        redis_url=wb.redis_url,
        anthropic_base_url=wb.model_url,
        orchestrator={"max_parallel_cycles": wb.config.parallel_cycles},
    )


async def run_sprint(wb: WorkerBench) -> SprintRun:
    """Epic -> proposals -> approve -> plan -> start -> every story through TDD -> review."""
    await wb.redis.flushdb()
    samples: list[JobSample] = []
    driver = _Driver(Store(wb.redis), await create_queue(wb.redis_url))
    loop = asyncio.get_running_loop()
    began, stalled = loop.time(), None
    try:
        with probing():
            async with _workers(sprint_settings(wb), samples):
                try:
                    async with asyncio.timeout(wb.config.sprint_timeout_s):
                        await driver.sprint(wb, wb.config.stories)
                except TimeoutError:
                    stalled = await driver.describe()
    finally:
        await driver.queue.aclose()
    return SprintRun(samples, len(driver.story_ids), loop.time() - began, stalled)


@dataclass
class _Driver:
    store: Store
    queue: ArqRedis
    story_ids: list[str] = field(default_factory=list)

    async def command(self, command: str, args: dict[str, Any], project: str | None = None) -> None:
        request = CommandRequest(command, args, _ACTOR, project)
        outcome = await execute(self.store, request, Limits())
        await enqueue_all(self.queue, outcome.jobs)

    async def sprint(self, wb: WorkerBench, count: int) -> None:
        repo = make_sample_repo(wb.workdir / "calculator")
        args = {"repo_url": str(repo), "id": PROJECT, "mode": "autonomous"}
        await self.command("project register", args)
        await self.command("project start", {"project": PROJECT})
        epic = "Calculator operations: " + ", ".join(op.keywords[0] for op in OPS[:count])
        await self.command("epic", {"description": epic}, PROJECT)
        ids = self.story_ids = await _until(self._proposed)
        await self.command("approve", {"ids": ids}, PROJECT)
        await self.command("sprint plan", {"story_ids": ids, "goal": "arithmetic"}, PROJECT)
        await self.command("sprint start", {}, PROJECT)
        await _until(self._in_review)

    async def describe(self) -> str:
        """`<project state>; <story>: <status> (<phase> <cycle status>), ...` for a stalled sprint."""
        project = await self.store.get(Project, keys.project(PROJECT))
        parts = [project.state.value if project else "no project"]
        for story_id in self.story_ids:
            story = await self.store.get(Story, keys.entity(PROJECT, "story", story_id))
            cycle_key = (
                cycles.cycle_key(PROJECT, story.tdd_cycle_id)
                if story and story.tdd_cycle_id
                else ""
            )
            cycle = await self.store.get(TDDCycle, cycle_key) if cycle_key else None
            where = f" ({cycle.phase.value} {cycle.status.value})" if cycle else ""
            parts.append(f"{story_id}: {story.status.value if story else '?'}{where}")
        return "; ".join(parts)

    async def _proposed(self) -> list[str] | None:
        found = list(await self.store.redis.zrange(keys.index(PROJECT, "proposed"), 0, -1))
        return found or None

    async def _in_review(self) -> bool | None:
        project = await self.store.get(Project, keys.project(PROJECT))
        return True if project and project.state is ScrumState.SPRINT_REVIEW else None


async def _until(what: Callable[[], Awaitable[T | None]]) -> T:
    while True:
        value = await what()
        if value is not None:
            return value
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def _workers(settings: Settings, sink: list[JobSample]) -> AsyncIterator[Worker]:
    cls = build_worker_settings(settings)
    functions = [probed(func(f), sink) for f in cls.functions]  # type: ignore[attr-defined]
    worker = create_worker(cls, handle_signals=False, functions=functions)
    task = asyncio.create_task(worker.async_run())
    try:
        yield worker
    finally:
        task.cancel()  # stops polling; a job already running gets a while to finish
        await asyncio.gather(task, return_exceptions=True)
        running = list(worker.tasks.values())
        if running:
            _, late = await asyncio.wait(running, timeout=_DRAIN_S)
            for job in late:
                job.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        with warnings.catch_warnings():  # arq calls redis' deprecated close()
            warnings.simplefilter("ignore", DeprecationWarning)
            await worker.close()
