"""A worker that rides out a short Redis outage instead of exiting.

arq's poll loop lets a connection error escape and the worker exits 1: a Redis restart of a
couple of seconds (a failover, a crashed pod coming back) restarted every worker at once, each
paying its start-up again, and Kubernetes backs off a pod that does that repeatedly. Here a poll
that cannot reach Redis is logged once, retried every ``RETRY_S``, and logged again when Redis
answers; only an outage longer than ``MAX_OUTAGE_S`` still ends the process (its supervisor
restarts it, as before). Jobs are at-least-once and idempotent: one whose result could not be
recorded during the outage is rerun after its in-progress key expires.
"""

from __future__ import annotations

import asyncio
import time

import structlog
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.worker.health import HealthKeyWorker

__all__ = ["MAX_OUTAGE_S", "RETRY_S", "OutageTolerantWorker"]

RETRY_S = 0.5
MAX_OUTAGE_S = 120.0
_LOST = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)

log = structlog.get_logger("worker.outage")


class OutageTolerantWorker(HealthKeyWorker):
    _outage_since: float | None = None

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except _LOST as exc:
            await self._unreachable(exc)
            return
        if self._outage_since is not None:
            log.info(
                "redis_reachable_again", after_s=round(time.monotonic() - self._outage_since, 2)
            )
            self._outage_since = None

    async def _unreachable(self, exc: BaseException) -> None:
        now = time.monotonic()
        if self._outage_since is None:
            self._outage_since = now
            log.warning("redis_unreachable", error=f"{type(exc).__name__}: {exc}")
        elif now - self._outage_since > MAX_OUTAGE_S:
            raise exc
        await asyncio.sleep(RETRY_S)
