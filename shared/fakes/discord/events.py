"""Gateway events that follow REST writes, as Discord sends them to intents that ask."""

from __future__ import annotations

from shared.fakes.discord.errors import DiscordError
from shared.fakes.discord.payloads import Json
from shared.fakes.discord.state import FakeState

__all__ = [
    "GUILD_MESSAGES",
    "message_created",
    "message_updated",
    "thread_created",
    "validate_message",
]

GUILDS = 1 << 0
GUILD_MESSAGES = 1 << 9
_MAX_CONTENT = 2000
_MAX_EMBEDS = 10
_MAX_ROWS = 5


def validate_message(body: Json, *, editing: bool = False) -> None:
    """Discord's 400s for a message body: empty, over 2000 characters, too many embeds/rows."""
    content = body.get("content") or ""
    keys = ("content", "embeds", "components", "attachments", "sticker_ids", "poll")
    if not editing and not any(body.get(key) for key in keys):
        raise DiscordError(400, 50006, "Cannot send an empty message")
    if len(str(content)) > _MAX_CONTENT:
        raise DiscordError(
            400, 50035, "Invalid Form Body: content: Must be 2000 or fewer in length."
        )
    if len(body.get("embeds") or []) > _MAX_EMBEDS:
        raise DiscordError(400, 50035, "Invalid Form Body: embeds: Must be 10 or fewer in length.")
    if len(body.get("components") or []) > _MAX_ROWS:
        raise DiscordError(
            400, 50035, "Invalid Form Body: components: Must be 5 or fewer in length."
        )


async def message_created(state: FakeState, message: Json) -> None:
    if not message["flags"] & (1 << 6):  # ephemeral messages never reach the gateway
        await state.hub.sessions.dispatch("MESSAGE_CREATE", message, GUILD_MESSAGES)


async def message_updated(state: FakeState, message: Json) -> None:
    if not message["flags"] & (1 << 6):
        await state.hub.sessions.dispatch("MESSAGE_UPDATE", message, GUILD_MESSAGES)


async def thread_created(state: FakeState, thread: Json) -> None:
    await state.hub.sessions.dispatch("THREAD_CREATE", {**thread, "newly_created": True}, GUILDS)
