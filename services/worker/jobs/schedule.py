"""schedule_sprint: start cycles for planned stories within the limits, and retake orphans.

Idempotent and cheap, so it runs on every nudge (sprint start, resume, a story done) and from
the reconcile cron; whichever worker runs it reaches the same decisions from Redis.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import structlog

from services.worker.deps import WorkerDeps, deps
from shared.domain.models import Project, ProjectStatus, ScrumState, Sprint, StoryStatus
from shared.domain.tdd import CycleStatus, TDDCycle
from shared.jobs.queue import enqueue_all
from shared.jobs.specs import JobSpec, phase_job, review_job
from shared.state import keys, slots
from shared.workflow import cycles
from shared.workflow.queries import stories_by_id

if TYPE_CHECKING:
    from shared.domain.models import Story

__all__ = ["reconcile", "schedule_sprint"]

log = structlog.get_logger("worker.schedule")
_LIVE = frozenset({CycleStatus.QUEUED, CycleStatus.RUNNING})
_LOST_JOB_AFTER_S = 10.0


async def schedule_sprint(ctx: dict[str, Any], project_id: str) -> int:
    d = deps(ctx)
    project = await d.store.get(Project, keys.project(project_id))
    if project is None or not project.active_sprint_id:
        return 0
    sprint = await d.store.get(Sprint, keys.entity(project_id, "sprint", project.active_sprint_id))
    if project.state is ScrumState.SPRINT_REVIEW and sprint and not sprint.review_summary:
        return await enqueue_all(d.queue, [review_job(project_id, sprint.id)])
    if not _runnable(project):
        return 0
    stories = await stories_by_id(d.store, project_id, sprint.story_ids if sprint else [])
    jobs = await _retake(d, project_id, stories)
    jobs += await _start_new(d, project_id, stories)
    return await enqueue_all(d.queue, jobs)


async def reconcile(ctx: dict[str, Any]) -> int:
    """Cron: schedule every active project (covers lost nudges and dead workers)."""
    active: set[str] = await deps(ctx).store.redis.smembers(keys.ACTIVE_PROJECTS)  # type: ignore[misc]
    return sum([await schedule_sprint(ctx, pid) for pid in sorted(active)])


def _runnable(project: Project) -> bool:
    return project.status is ProjectStatus.ACTIVE and project.state is ScrumState.SPRINT_ACTIVE


async def _cycles(d: WorkerDeps, project_id: str, stories: list[Story]) -> list[TDDCycle]:
    ids = [s.tdd_cycle_id for s in stories if s.tdd_cycle_id]
    found = await d.store.get_many(TDDCycle, [cycles.cycle_key(project_id, i) for i in ids])
    return [c for c in found if c is not None]


async def _retake(d: WorkerDeps, project_id: str, stories: list[Story]) -> list[JobSpec]:
    live_holders = set(await slots.holders(d.store.redis, keys.slots(project_id)))
    jobs: list[JobSpec] = []
    for cycle in await _cycles(d, project_id, stories):
        if await _orphaned(d, cycle, live_holders):
            log.info("cycle_retaken", cycle_id=cycle.id, status=cycle.status.value)
            job = await cycles.requeue(d.store, project_id, cycle.id)
            jobs.extend([job] if job else [])
    return jobs


async def _orphaned(d: WorkerDeps, cycle: TDDCycle, live: set[str]) -> bool:
    holder = slots.cycle_holder(cycle.id, cycle.run)
    if cycle.status is CycleStatus.WAITING:
        return cycle.waiting_for == "sprint"  # refused while the sprint could not block it
    if cycle.status is CycleStatus.RUNNING:
        return holder not in live  # its worker stopped renewing the lease
    if cycle.status is not CycleStatus.QUEUED or holder in live:
        return False
    if time.time() - cycle.updated_at.timestamp() < _LOST_JOB_AFTER_S:
        return False
    job_id = phase_job(cycle.project_id, cycle.id, cycle.phase.value, cycle.run).job_id
    return await d.queue.zscore(keys.ARQ_QUEUE, job_id) is None


async def _start_new(d: WorkerDeps, project_id: str, stories: list[Story]) -> list[JobSpec]:
    live = [c for c in await _cycles(d, project_id, stories) if c.status in _LIVE]
    room = d.settings.orchestrator.max_parallel_cycles - len(live)
    jobs: list[JobSpec] = []
    for story in stories:
        if room <= 0:
            break
        if story.status is StoryStatus.SPRINT and not story.tdd_cycle_id:
            job = await cycles.create(d.store, project_id, story.id)
            if job is not None:
                jobs.append(job)
                room -= 1
    return jobs
