"""What the gateway's leader runs, chosen by ``gateway.duty``.

Until the Discord shard lands, the duty is a heartbeat: the leader appends its id and fencing
token to a stream every second, only while its term holds. The failover tests read that stream;
its entry ids are Redis' own clock, so gaps are measured on one clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog
from redis.exceptions import RedisError

from shared.state import keys
from shared.state.gateway_guards import IdentifyPolicy

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from services.gateway.term import LeaderDuty, Term
    from shared.platform.settings import GatewaySettings, Settings

__all__ = ["DUTIES", "DutyFactory", "HeartbeatDuty", "build_duty", "identify_policy"]

log = structlog.get_logger("gateway.duty")

_BEACON_MAXLEN = 10_000


class HeartbeatDuty:
    def __init__(self, redis: Redis, interval_s: float, stream: str = keys.GATEWAY_BEACON) -> None:
        self._redis = redis
        self._interval_s = interval_s
        self._stream = stream
        self._task: asyncio.Task[None] | None = None

    async def start(self, term: Term) -> None:
        await self.stop()
        self._task = asyncio.create_task(self._beat(term), name="heartbeat-duty")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.wait({task})

    async def _beat(self, term: Term) -> None:
        while True:
            if term.holds():  # a resumed, deposed leader must not write before it notices
                await self._write(term)
            await asyncio.sleep(self._interval_s)

    async def _write(self, term: Term) -> None:
        entry = {"owner": term.grant.owner, "token": str(term.grant.token)}
        try:
            await self._redis.xadd(self._stream, entry, maxlen=_BEACON_MAXLEN, approximate=True)  # type: ignore[arg-type]
        except RedisError as exc:
            log.warning("heartbeat_write_failed", error=repr(exc))


DutyFactory = Callable[["Settings", "Redis"], "LeaderDuty"]


def _heartbeat(settings: Settings, redis: Redis) -> LeaderDuty:
    return HeartbeatDuty(redis, settings.gateway.heartbeat_interval_s)


def _discord(settings: Settings, redis: Redis) -> LeaderDuty:
    from services.gateway.discord.duty import DiscordDuty  # hikari is loaded only when used

    return DiscordDuty(settings, redis)


DUTIES: dict[str, DutyFactory] = {"heartbeat": _heartbeat, "discord": _discord}


def build_duty(settings: Settings, redis: Redis) -> LeaderDuty:
    name = settings.gateway.duty
    if name == "auto":
        name = "discord" if settings.discord_bot_token else "heartbeat"
    return DUTIES[name](settings, redis)


def identify_policy(gateway: GatewaySettings) -> IdentifyPolicy:
    """For the Discord duty: its IdentifyGuard's limits, from settings."""
    return IdentifyPolicy(
        daily_budget=gateway.identify_budget_per_day,
        backoff_base_s=gateway.identify_backoff_base_s,
        backoff_max_s=gateway.identify_backoff_max_s,
        flap_window_s=gateway.identify_flap_window_s,
    )
