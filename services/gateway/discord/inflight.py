"""The interactions a leader has taken and not yet answered, and how a leaving leader drains them.

Every interaction the handler claimed is answered exactly once, by the pod that claimed it: no
other pod will (the claim says "taken"), and Discord does not deliver it again. So a leader that
stops first closes its gateway session (nothing new arrives), lets quick answers finish, hurries
slow ones (they answer at once that the work had not finished) and only then cancels what still
hangs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import structlog

from services.gateway.discord.rest import DiscordRestError
from shared.platform.errors import AppError

if TYPE_CHECKING:
    from services.gateway.discord.handler import InteractionHandler
    from services.gateway.discord.rest import DiscordRest

__all__ = ["InFlight"]

log = structlog.get_logger("gateway.discord.inflight")

SETTLE_S = 0.25  # answers of quick work are sent well within this
HURRIED_S = 2.0  # a hurried answer is one or two REST calls


class InFlight:
    def __init__(self, handler: InteractionHandler, rest: DiscordRest) -> None:
        self._handler = handler
        self._rest = rest
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, payload: Mapping[str, Any]) -> None:
        task = asyncio.create_task(self._serve(payload), name="discord-interaction")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, settle_s: float = SETTLE_S, hurried_s: float = HURRIED_S) -> None:
        """Call once no new interaction can arrive: answer everything taken, then return."""
        pending = await _wait(set(self._tasks), settle_s)
        if pending:
            self._handler.hurry()
            pending = await _wait(pending, hurried_s)
        for task in pending:
            log.warning("interaction_abandoned", task=task.get_name())
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def _serve(self, payload: Mapping[str, Any]) -> None:
        try:
            reply = await self._handler.handle(payload)
            if reply.duplicate:
                return
            await self._rest.callback(str(payload["id"]), str(payload["token"]), reply.response)
            if reply.later is not None:
                await reply.later()
        except (AppError, DiscordRestError) as exc:
            interaction_id = payload.get("id")
            log.warning("interaction_not_answered", interaction_id=interaction_id, error=str(exc))


async def _wait(tasks: set[asyncio.Task[None]], timeout_s: float) -> set[asyncio.Task[None]]:
    if not tasks:
        return set()
    _, pending = await asyncio.wait(tasks, timeout=timeout_s)
    return pending
