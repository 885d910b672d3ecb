"""/metrics: this replica's Prometheus metrics plus the cluster gauges read from Redis."""

from __future__ import annotations

import contextlib

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.exceptions import RedisError

from services.api.deps import StoreDep
from shared.observability import cluster, metrics

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def prometheus_metrics(store: StoreDep) -> Response:
    # the per-replica metrics still help while Redis is away; /readyz reports that
    with contextlib.suppress(RedisError, OSError):
        await cluster.refresh(store)
    text = generate_latest() + generate_latest(metrics.CLUSTER)
    return Response(text, media_type=CONTENT_TYPE_LATEST)
