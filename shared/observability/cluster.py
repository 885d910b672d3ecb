"""Cluster-wide gauges, read from Redis when Prometheus scrapes a pod."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.domain.models import Project, ScrumState
from shared.observability import metrics
from shared.state import keys

if TYPE_CHECKING:
    from shared.state.store import Store

__all__ = ["refresh"]


async def refresh(store: Store) -> None:
    """Queue depth, running sprints and whether a gateway holds the lease, as Redis has them now."""
    redis = store.redis
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zcard(keys.ARQ_QUEUE)
        pipe.smembers(keys.ACTIVE_PROJECTS)
        pipe.exists(keys.lease(keys.GATEWAY_LEASE))
        depth, active, leased = await pipe.execute()
    projects = await store.get_many(Project, [keys.project(p) for p in sorted(active)])
    running = sum(1 for p in projects if p and p.state is ScrumState.SPRINT_ACTIVE)
    metrics.QUEUE_DEPTH.set(depth)
    metrics.ACTIVE_SPRINTS.set(running)
    metrics.LEASE_HELD.set(1 if leased else 0)
