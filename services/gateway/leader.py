"""Leader election for the gateway: of N identical pods, the holder of one Redis lease runs the
duty (the Discord shard); the others stand by and take over when it goes.

Safety comes first: when a renewal is refused, fails, or does not answer within ttl/3 (while the
lease surely still holds, since renewals come every ttl/3), the duty is stopped before anything
else happens. A graceful exit stops the duty, then releases the lease, which wakes a standby.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from redis.exceptions import RedisError

from services.gateway.term import Term
from shared.observability import metrics

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from services.gateway.term import LeaderDuty
    from shared.platform.settings import GatewaySettings
    from shared.state.lease import Grant, Lease

__all__ = ["DutyStopFailed", "Leader", "LeaderTiming"]

log = structlog.get_logger("gateway.leader")


class DutyStopFailed(RuntimeError):
    """The duty did not stop: the process must exit, or two pods might run it."""


@dataclass(frozen=True)
class LeaderTiming:
    ttl_s: float
    renew_every_s: float
    standby_poll_s: float
    stop_timeout_s: float

    @classmethod
    def from_settings(cls, gateway: GatewaySettings) -> LeaderTiming:
        return cls(
            ttl_s=gateway.lease_ttl_s,
            renew_every_s=gateway.renew_every_s,
            standby_poll_s=gateway.standby_poll_s,
            stop_timeout_s=gateway.stop_timeout_s,
        )


@dataclass(frozen=True)
class _Ending:
    reason: str  # shutdown | lost | renew_failed | start_failed
    detail: str = ""


class Leader:
    def __init__(self, lease: Lease, owner: str, duty: LeaderDuty, timing: LeaderTiming) -> None:
        self._lease = lease
        self._owner = owner
        self._duty = duty
        self._timing = timing

    async def run(self, shutdown: asyncio.Event) -> None:
        """Contend, lead, stand by again after a loss; return once ``shutdown`` is set."""
        while not shutdown.is_set():
            term = await self._contend(shutdown)
            if term is None:
                return
            ending = await self._lead(term, shutdown)
            if ending.reason == "start_failed":  # let another pod try before this one retries
                await _sleep_unless(shutdown, self._timing.ttl_s)

    async def _contend(self, shutdown: asyncio.Event) -> Term | None:
        announced = False
        while not shutdown.is_set():
            sent_at = time.monotonic()
            grant = await self._try_acquire()
            if grant is not None:
                log.info("lease_acquired", owner=self._owner, fence=grant.token)
                return Term(grant, sent_at + self._timing.ttl_s)
            if not announced:
                log.info("standing_by", owner=self._owner)
                announced = True
            await self._await_turn(shutdown)
        return None

    async def _try_acquire(self) -> Grant | None:
        try:
            async with asyncio.timeout(self._timing.standby_poll_s):
                return await self._lease.acquire(self._owner)
        except (RedisError, TimeoutError) as exc:
            log.warning("lease_acquire_failed", error=repr(exc))
            return None

    async def _await_turn(self, shutdown: asyncio.Event) -> None:
        """Until a release wakes us, the poll interval passes, or shutdown."""
        try:
            await _unless(shutdown, self._lease.wait_released(self._timing.standby_poll_s))
        except RedisError as exc:
            log.warning("lease_wait_failed", error=repr(exc))
            await _sleep_unless(shutdown, self._timing.standby_poll_s)

    async def _lead(self, term: Term, shutdown: asyncio.Event) -> _Ending:
        starting = asyncio.create_task(self._duty.start(term), name="leader-duty-start")
        starting.add_done_callback(_report_start)
        metrics.GATEWAY_LEADER.set(1)
        try:
            ending = await self._hold(term, shutdown, starting)
        finally:
            starting.cancel()
            await self._stop_duty()
            metrics.GATEWAY_LEADER.set(0)
        log.info("duty_stopped", reason=ending.reason, detail=ending.detail, fence=term.grant.token)
        await self._release(term)
        return ending

    async def _hold(
        self, term: Term, shutdown: asyncio.Event, starting: asyncio.Task[None]
    ) -> _Ending:
        stopping = asyncio.create_task(shutdown.wait())
        try:
            while True:
                watched = {stopping} if starting.done() else {stopping, starting}
                await asyncio.wait(
                    watched, timeout=self._timing.renew_every_s, return_when=asyncio.FIRST_COMPLETED
                )
                if stopping.done():
                    return _Ending("shutdown")
                if starting.done() and not starting.cancelled() and starting.exception():
                    return _Ending("start_failed", repr(starting.exception()))
                if (ending := await self._renew(term)) is not None:
                    return ending
        finally:
            stopping.cancel()

    async def _renew(self, term: Term) -> _Ending | None:
        sent_at = time.monotonic()
        try:
            async with asyncio.timeout(self._timing.renew_every_s):
                renewed = await self._lease.renew(term.grant)
        except (RedisError, TimeoutError) as exc:
            return _Ending("renew_failed", repr(exc))
        if not renewed:
            return _Ending("lost", "the lease expired or another pod holds it")
        term.valid_until = sent_at + self._timing.ttl_s
        return None

    async def _stop_duty(self) -> None:
        try:
            async with asyncio.timeout(self._timing.stop_timeout_s):
                await self._duty.stop()
        except Exception as exc:
            raise DutyStopFailed(f"the leader duty did not stop: {exc!r}") from exc

    async def _release(self, term: Term) -> None:
        try:
            async with asyncio.timeout(self._timing.renew_every_s):
                released = await self._lease.release(term.grant)
        except (RedisError, TimeoutError) as exc:
            log.warning("lease_release_failed", error=repr(exc), fence=term.grant.token)
            return
        log.info("lease_released" if released else "lease_not_ours", fence=term.grant.token)


def _report_start(task: asyncio.Task[None]) -> None:
    if task.cancelled():
        return
    if (exc := task.exception()) is not None:
        log.error("duty_start_failed", exc_info=exc)
    else:
        log.info("duty_started")


async def _unless(shutdown: asyncio.Event, work: Coroutine[Any, Any, object]) -> None:
    """Run ``work`` until it ends (its error is raised) or ``shutdown`` comes first (cancelled)."""
    task = asyncio.ensure_future(work)
    stopping = asyncio.ensure_future(shutdown.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        task.cancel()
        stopping.cancel()
    if task.done() and not task.cancelled():
        task.result()


async def _sleep_unless(shutdown: asyncio.Event, seconds: float) -> None:
    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that lands in
    # the same tick as the inner wait ends (CPython gh-86296), leaving the task running for good
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await shutdown.wait()
