"""The arq worker: the class arq's CLI loads, and `python -m services.worker`."""

from __future__ import annotations

import os
import socket
from typing import Any, ClassVar

from arq import cron, func
from arq.connections import RedisSettings
from arq.worker import Function

from services.worker.deps import WorkerDeps, make_client, worker_id
from services.worker.jobs import review
from services.worker.jobs.backlog import propose_backlog
from services.worker.jobs.backup import CRON_SECOND, scheduled_backup
from services.worker.jobs.merge import merge_story
from services.worker.jobs.phase import run_phase
from services.worker.jobs.review import review_sprint
from services.worker.jobs.schedule import reconcile, schedule_sprint
from services.worker.observed import Job, observed
from shared.agents.mirrors import MirrorCache
from shared.jobs import names
from shared.jobs.queue import deserialize, serialize
from shared.observability.serve import observe_process
from shared.platform.redis import create_redis
from shared.platform.settings import Settings, load_settings
from shared.state import keys
from shared.state.store import Store
from shared.workflow.context import Limits

__all__ = ["FUNCTIONS", "build_worker_settings"]

_RECONCILE_SECONDS = set(range(0, 60, 5))
_BACKUP_TIMEOUT_S = 3600


def _functions(settings: Settings) -> list[Function]:
    timeout = settings.agents.timeout_minutes * 60
    return [
        _job(run_phase, names.RUN_PHASE, timeout, max_tries=1_000, keep_result=60),
        _job(schedule_sprint, names.SCHEDULE_SPRINT, 60, max_tries=3, keep_result=0),
        _job(merge_story, names.MERGE_STORY, timeout, max_tries=3),
        _job(review_sprint, names.REVIEW_SPRINT, timeout, max_tries=review.MAX_TRIES),
        _job(propose_backlog, names.PROPOSE_BACKLOG, timeout, max_tries=5, keep_result=3600),
    ]


def _job(job: Job, name: str, timeout: int, **options: Any) -> Function:
    return func(observed(name, job), name=name, timeout=timeout, **options)


FUNCTIONS = frozenset(names.ALL_JOBS)


def _crons(settings: Settings) -> list[Any]:
    crons = [
        cron(reconcile, second=_RECONCILE_SECONDS, run_at_startup=True, timeout=60, keep_result=0)
    ]
    if settings.backup.dir is not None:  # opt-in; see services.worker.jobs.backup
        timeout = _BACKUP_TIMEOUT_S
        crons.append(cron(scheduled_backup, second={CRON_SECOND}, timeout=timeout, keep_result=0))
    return crons


def build_worker_settings(settings: Settings) -> type:
    redis_url = settings.redis_url or ""

    async def startup(ctx: dict[str, Any]) -> None:
        observe_process("worker", settings)
        redis = create_redis(redis_url, client_name="awf.worker")
        limits = Limits(max_concurrent_projects=settings.orchestrator.max_concurrent_projects)
        ctx["deps"] = WorkerDeps(
            settings=settings,
            store=Store(redis),
            queue=ctx["redis"],
            client=make_client(settings),
            worker_id=worker_id(),
            limits=limits,
            mirrors=MirrorCache(max_mirrors=settings.agents.mirror_cache_size),
        )

    async def shutdown(ctx: dict[str, Any]) -> None:
        deps: WorkerDeps | None = ctx.get("deps")
        if deps is not None:
            await deps.client.close()
            await deps.store.redis.aclose()
            await deps.mirrors.close()

    class WorkerSettings:
        functions: ClassVar[list[Any]] = _functions(settings)
        cron_jobs: ClassVar[list[Any]] = _crons(settings)
        redis_settings = RedisSettings.from_dsn(redis_url)
        job_serializer = staticmethod(serialize)
        job_deserializer = staticmethod(deserialize)
        on_startup = staticmethod(startup)
        on_shutdown = staticmethod(shutdown)
        poll_delay = 0.05
        max_jobs = settings.orchestrator.max_total_agents + 4
        job_timeout = settings.agents.timeout_minutes * 60
        job_completion_wait = settings.orchestrator.drain_timeout_s  # see services.worker.drain
        allow_abort_jobs = True
        health_check_interval = settings.monitoring.health_check_interval  # see worker.health
        health_check_key = (
            f"{keys.ARQ_QUEUE}:health-check:{os.environ.get('HOSTNAME') or socket.gethostname()}"
        )

    return WorkerSettings


def settings_from_env() -> type:
    return build_worker_settings(load_settings())
