"""Finishing a deferred answer: edit the original response while the interaction token lives
(15 minutes), else post to the channel; an ephemeral answer goes out as an ephemeral followup."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

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


class Delivery:
    def __init__(self, rest: DiscordRest | None, token_ttl_s: float = TOKEN_TTL_S) -> None:
        self._rest = rest
        self._usable_s = max(token_ttl_s - _MARGIN_S, token_ttl_s / 2)

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
        # never cancelled: a commit may be under way; the work finishes in the background
        done, _ = await asyncio.wait({work}, timeout=max(left, 0.0))
        if done:
            return work.result()
        return refusal(
            f"This is taking longer than {timeout_s:.0f} s (discord.command_timeout); it goes "
            "on in the background. Check /state in a while."
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
