"""Finishing a deferred answer: edit the original response while the interaction token lives
(15 minutes), else post to the channel; an ephemeral answer goes out as an ephemeral followup.

Work that outlives `discord.command_timeout` is answered with a note saying so and is left to
finish in the background (never cancelled: a commit may be under way); its result is not sent.
A leaving leader `hurry`s: whatever still waits for work is answered at once.
"""

from __future__ import annotations

import asyncio
import time
from asyncio import FIRST_COMPLETED
from typing import TYPE_CHECKING, Any

import structlog

from services.gateway.discord import wire
from services.gateway.discord.interaction import Answer, refusal
from services.gateway.discord.rest import DiscordRestError

if TYPE_CHECKING:
    from services.gateway.discord.interaction import Interaction
    from services.gateway.discord.rest import DiscordRest
    from services.gateway.discord.wire import Json

__all__ = ["TOKEN_TTL_S", "Delivery"]

log = structlog.get_logger("gateway.discord.delivery")

TOKEN_TTL_S = 15 * 60.0
_MARGIN_S = 30.0  # an edit sent this close to the expiry might arrive after it
_HANDING_OVER = (
    "The bot is handing over to another instance and this had not finished yet. "
    "Check /state in a moment to see whether it took effect."
)


class Delivery:
    def __init__(self, rest: DiscordRest | None, token_ttl_s: float = TOKEN_TTL_S) -> None:
        self._rest = rest
        self._usable_s = max(token_ttl_s - _MARGIN_S, token_ttl_s / 2)
        self._hurry = asyncio.Event()

    def hurry(self) -> None:
        """Stop waiting for work: every pending answer goes out now (the leader is leaving)."""
        self._hurry.set()

    async def settled(self, work: asyncio.Future[Answer], timeout_s: float) -> bool:
        """Wait up to `timeout_s` for `work`, less once hurried; True when it is done."""
        if not work.done() and not self._hurry.is_set():
            hurried: asyncio.Future[Any] = asyncio.ensure_future(self._hurry.wait())
            watched: set[asyncio.Future[Any]] = {work, hurried}
            try:  # never cancels `work`: a commit may be under way
                await asyncio.wait(
                    watched, timeout=max(timeout_s, 0.0), return_when=FIRST_COMPLETED
                )
            finally:
                hurried.cancel()
        return work.done()

    async def finish(
        self, interaction: Interaction, work: asyncio.Future[Answer], timeout_s: float
    ) -> None:
        answer = await self._outcome(interaction, work, timeout_s)
        if self._rest is None:
            log.warning("deferred_answer_dropped", interaction_id=interaction.id)
            return
        try:
            if self._token_expired(interaction):
                await self._to_channel(self._rest, interaction, answer)
            else:
                await self._to_interaction(self._rest, interaction, answer)
        except DiscordRestError as exc:
            log.warning("deferred_answer_failed", interaction_id=interaction.id, error=str(exc))

    async def _outcome(
        self, interaction: Interaction, work: asyncio.Future[Answer], timeout_s: float
    ) -> Answer:
        left = timeout_s - (time.monotonic() - interaction.received_at)
        if await self.settled(work, left):
            return work.result()
        if self._hurry.is_set():
            return refusal(_HANDING_OVER)
        return refusal(
            f"This is taking longer than {timeout_s:g} s (discord.command_timeout); it goes "
            "on in the background and its result is not posted here. Check /state in a while."
        )

    def _token_expired(self, interaction: Interaction) -> bool:
        return time.monotonic() - interaction.received_at >= self._usable_s

    async def _to_interaction(
        self, rest: DiscordRest, interaction: Interaction, answer: Answer
    ) -> None:
        app_id, token = interaction.application_id, interaction.token
        if answer.is_ephemeral:
            if interaction.type != wire.COMPONENT:  # the public "thinking…" placeholder goes
                await rest.delete_original(app_id, token)
            await rest.followup(app_id, token, answer.data)
            return
        await rest.edit_original(app_id, token, _without_flags(answer.data))

    async def _to_channel(
        self, rest: DiscordRest, interaction: Interaction, answer: Answer
    ) -> None:
        if interaction.channel_id is None:
            log.warning("deferred_answer_dropped", interaction_id=interaction.id)
            return
        data = _without_flags(answer.data)
        data["content"] = wire.fit(f"<@{interaction.user_id}> {data.get('content', '')}", 2000)
        data["allowed_mentions"] = {"users": [interaction.user_id]}
        await rest.create_message(interaction.channel_id, data)


def _without_flags(data: Json) -> Json:
    return {k: v for k, v in data.items() if k != "flags"}
