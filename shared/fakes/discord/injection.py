"""What a user does in the Discord client, turned into INTERACTION_CREATE / MESSAGE_CREATE.

Clicks and modal submits are only possible on what the bot actually showed: a button must
exist (and be enabled) on a stored message, a modal must have been opened by a callback.
"""

from __future__ import annotations

import secrets
from typing import Any

from shared.fakes.discord.events import GUILD_MESSAGES
from shared.fakes.discord.interactions import (
    APPLICATION_COMMAND,
    MESSAGE_COMPONENT,
    MODAL_SUBMIT,
    InteractionRecord,
    Invoker,
    button_data,
    command_data,
    interaction_payload,
    modal_components,
)
from shared.fakes.discord.payloads import Json
from shared.fakes.discord.state import FakeState

__all__ = ["click_button", "inject_slash", "post_user_message", "submit_modal"]

_ALL_PERMISSIONS = str((1 << 51) - 1)
_MODAL = 9


def _invoker(state: FakeState, channel_id: str | None) -> Invoker:
    world = state.world
    member = {**world.member(world.human["id"]), "permissions": _ALL_PERMISSIONS}
    channel = world.channel(channel_id or world.channel_id)
    return Invoker(member=member, channel=channel, app_permissions=_ALL_PERMISSIONS)


async def _deliver(
    state: FakeState, kind: int, invoker: Invoker, data: Json, **extra: Any
) -> InteractionRecord:
    interaction_id = state.world.ids.next()
    token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
    ids = (interaction_id, token, state.world.app_id)
    payload = interaction_payload(ids, kind, invoker, data, **extra)
    record = InteractionRecord(interaction_id, token, kind, invoker.channel["id"], payload)
    state.interactions.add(record)
    await state.hub.sessions.dispatch("INTERACTION_CREATE", payload)
    state.changes.notify()
    return record


async def inject_slash(
    state: FakeState, name: str, options: dict[str, Any], channel_id: str | None
) -> InteractionRecord:
    """``name`` may hold a subcommand path: ``"project register"``."""
    path = name.split()
    registered = state.commands.find(path[0], state.world.guild_id)
    command_id = registered["id"] if registered else state.world.ids.next()
    data = command_data(command_id, path, options, state.world.guild_id)
    return await _deliver(state, APPLICATION_COMMAND, _invoker(state, channel_id), data)


async def click_button(
    state: FakeState, custom_id: str, message_id: str | None
) -> InteractionRecord:
    message = _message_with_button(state, custom_id, message_id)
    invoker = _invoker(state, message["channel_id"])
    return await _deliver(
        state, MESSAGE_COMPONENT, invoker, button_data(custom_id), message=message
    )


def _message_with_button(state: FakeState, custom_id: str, message_id: str | None) -> Json:
    world = state.world
    candidates = [world.find_message(message_id)] if message_id else _newest_first(state)
    for message in candidates:
        button = _find_button(message.get("components") or [], custom_id)
        if button is not None:
            if button.get("disabled"):
                raise ValueError(f"button {custom_id!r} is disabled on message {message['id']}")
            return message
    raise LookupError(f"no message shows a button {custom_id!r}")


def _newest_first(state: FakeState) -> list[Json]:
    world = state.world
    every = [m for channel_id in world.channels for m in world.messages(channel_id)]
    return sorted(every, key=lambda m: int(m["id"]), reverse=True)


def _find_button(components: list[Json], custom_id: str) -> Json | None:
    for component in components:
        if component.get("custom_id") == custom_id:
            return component
        if (found := _find_button(component.get("components") or [], custom_id)) is not None:
            return found
    return None


async def submit_modal(
    state: FakeState, custom_id: str, values: dict[str, str]
) -> InteractionRecord:
    opener = _modal_opener(state, custom_id)
    invoker = _invoker(state, opener.channel_id)
    data = {"custom_id": custom_id, "components": modal_components(values)}
    extra = {"message": opener.payload["message"]} if "message" in opener.payload else {}
    return await _deliver(state, MODAL_SUBMIT, invoker, data, **extra)


def _modal_opener(state: FakeState, custom_id: str) -> InteractionRecord:
    for record in reversed(state.interactions.all()):
        for response in record.responses:
            opened = response.get("data") or {}
            if response.get("type") == _MODAL and opened.get("custom_id") == custom_id:
                return record
    raise LookupError(f"no modal {custom_id!r} was opened by the bot")


async def post_user_message(state: FakeState, content: str, channel_id: str | None) -> Json:
    """A message from the human member; reaches sessions with the GUILD_MESSAGES intent."""
    world = state.world
    target = channel_id or world.channel_id
    message = world.post(target, world.human, {"content": content}, "user")
    member = {k: v for k, v in world.member(world.human["id"]).items() if k != "user"}
    await state.hub.sessions.dispatch(
        "MESSAGE_CREATE", {**message, "member": member}, GUILD_MESSAGES
    )
    state.changes.notify()
    return message
