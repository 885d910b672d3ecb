"""Enqueueing with deterministic ids, a SET NX claim, and a JSON serializer (never pickle)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from opentelemetry.trace import SpanKind

from shared.observability.tracing import TRACE_KWARG, carrier, tracer
from shared.state import keys

if TYPE_CHECKING:
    from collections.abc import Iterable

    from shared.jobs.specs import JobSpec

__all__ = ["create_queue", "deserialize", "enqueue", "enqueue_all", "serialize"]


def serialize(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":"), default=str).encode()


def deserialize(raw: bytes) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(raw)
    return data


async def create_queue(redis_url: str) -> ArqRedis:
    settings = RedisSettings.from_dsn(redis_url)
    return await create_pool(settings, job_serializer=serialize, job_deserializer=deserialize)


async def enqueue(queue: ArqRedis, job: JobSpec) -> bool:
    """True when enqueued; False when this job id was already claimed or is still queued.
    The job carries the caller's trace context, so its span continues the caller's trace."""
    with tracer.start_as_current_span(f"enqueue {job.function}", kind=SpanKind.PRODUCER) as span:
        span.set_attribute("messaging.message.id", job.job_id)
        queued = await _enqueue(queue, job)
        span.set_attribute("awf.job.queued", queued)
        return queued


async def _enqueue(queue: ArqRedis, job: JobSpec) -> bool:
    if job.dedupe:
        claimed = await queue.set(
            keys.job_claim(job.project_id, job.job_id), "1", nx=True, ex=keys.JOB_CLAIM_TTL_S
        )
        if not claimed:
            return False
    kwargs = {**job.kwargs, TRACE_KWARG: carrier()}
    queued = await queue.enqueue_job(
        job.function, _job_id=job.job_id, _defer_by=job.defer_s, **kwargs
    )
    return queued is not None


async def enqueue_all(queue: ArqRedis, jobs: Iterable[JobSpec]) -> int:
    return sum([await enqueue(queue, j) for j in jobs])
