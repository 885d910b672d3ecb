"""Every job runs inside a span continuing its caller's trace, and is counted and timed."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import structlog
from arq import Retry
from opentelemetry import trace

from shared.observability import metrics
from shared.observability.tracing import TRACE_KWARG, current_trace_id, job_context, tracer

if TYPE_CHECKING:
    from arq.typing import WorkerCoroutine

__all__ = ["Job", "observed"]

Job = Callable[..., Awaitable[Any]]


def observed(name: str, job: Job) -> WorkerCoroutine:
    @functools.wraps(job)
    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        parent = kwargs.pop(TRACE_KWARG, None)
        with (
            job_context(parent if isinstance(parent, dict) else None) as links,
            tracer.start_as_current_span(
                f"job {name}", kind=trace.SpanKind.CONSUMER, links=links
            ) as span,
            structlog.contextvars.bound_contextvars(
                job_id=ctx.get("job_id"), trace_id=current_trace_id(), **_ids(kwargs)
            ),
        ):
            span.set_attribute("messaging.message.id", str(ctx.get("job_id")))
            span.set_attribute("awf.job.try", int(ctx.get("job_try") or 1))
            return await _counted(name, job, ctx, args, kwargs)

    return cast("WorkerCoroutine", run)


async def _counted(
    name: str, job: Job, ctx: dict[str, Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    status, started = "error", time.perf_counter()
    running = metrics.JOBS_RUNNING.labels(name)
    running.inc()
    try:
        result = await job(ctx, *args, **kwargs)
        status = "ok"
        return result
    except Retry:
        status = "retry"
        raise
    except asyncio.CancelledError:
        status = "cancelled"
        raise
    finally:
        running.dec()
        metrics.JOBS.labels(name, status).inc()
        metrics.JOB_DURATION.labels(name).observe(time.perf_counter() - started)


def _ids(kwargs: dict[str, Any]) -> dict[str, str]:
    """The ids a job names, bound to its log lines (project, story, cycle, sprint)."""
    wanted = ("project_id", "story_id", "cycle_id", "sprint_id")
    return {k: str(kwargs[k]) for k in wanted if k in kwargs}
