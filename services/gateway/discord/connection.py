"""The leader's Discord connection, as `awf health` and operators see it: one Redis hash, and
a capped stream of its changes (``XRANGE awf:{gateway:discord}:log - +`` shows a flapping link).

The duty writes ``connecting`` when its term starts, then what hikari reports of shard 0:
``connected`` (websocket open, no session yet), ``ready`` (READY or RESUMED: interactions
arrive), ``disconnected``. Each write carries the term's owner and fencing token and the
server's clock, so a reader knows whether it describes the current leader and since when. A
deposed leader writes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import hikari
import structlog
from redis.exceptions import RedisError

from shared.state import keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from services.gateway.term import Term

__all__ = ["ConnectionRecorder", "DiscordLink"]

log = structlog.get_logger("gateway.discord.connection")

# the server's clock, so every pod and `awf health` read one clock
_RECORD = """
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'token', ARGV[2], 'state', ARGV[3],
           'since', redis.call('TIME')[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[4], '*',
           'owner', ARGV[1], 'token', ARGV[2], 'state', ARGV[3])
return 1
"""
_LOG_LENGTH = 200


class DiscordLink(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    READY = "ready"
    DISCONNECTED = "disconnected"


_EVENTS: dict[type[hikari.ShardEvent], DiscordLink] = {
    hikari.ShardConnectedEvent: DiscordLink.CONNECTED,
    hikari.ShardReadyEvent: DiscordLink.READY,
    hikari.ShardResumedEvent: DiscordLink.READY,
    hikari.ShardDisconnectedEvent: DiscordLink.DISCONNECTED,
}


class ConnectionRecorder:
    def __init__(self, redis: Redis, term: Term) -> None:
        self._redis, self._term = redis, term
        self._in_order = asyncio.Lock()
        self._last: DiscordLink | None = None

    async def record(self, link: DiscordLink) -> None:
        if not self._term.holds():
            return
        async with self._in_order:
            if _stale(self._last, link):
                return
            self._last = link
            await self._write(link)

    async def _write(self, link: DiscordLink) -> None:
        grant = self._term.grant
        try:
            await self._redis.eval(  # type: ignore[misc]
                _RECORD,
                2,
                keys.GATEWAY_DISCORD,
                keys.GATEWAY_DISCORD_LOG,
                grant.owner,
                str(grant.token),
                link.value,
                str(_LOG_LENGTH),
            )
        except RedisError as exc:  # the link itself is fine; health will show the stale state
            log.warning("discord_link_not_recorded", link=link.value, error=repr(exc))

    def subscribe(self, bot: hikari.GatewayBot) -> None:
        """Record each shard event of ``bot`` as it arrives."""
        for event_type, link in _EVENTS.items():
            bot.subscribe(event_type, self._listener(link))

    def _listener(
        self, link: DiscordLink
    ) -> Callable[[hikari.ShardEvent], Coroutine[Any, Any, None]]:
        async def on_event(_: hikari.ShardEvent) -> None:
            await self.record(link)

        return on_event


def _stale(last: DiscordLink | None, link: DiscordLink) -> bool:
    """Nothing new (a closing bot's disconnect, then the duty's own), or out of order: hikari
    dispatches each event in its own task, so a shard's CONNECTED can reach us after the READY
    that followed it, and a ready session is not merely connected again until it drops."""
    return link is last or (last is DiscordLink.READY and link is DiscordLink.CONNECTED)
