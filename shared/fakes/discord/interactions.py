"""INTERACTION_CREATE payloads (slash command, button click, modal submit) and their records."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from shared.fakes.discord.payloads import Json

__all__ = [
    "APPLICATION_COMMAND",
    "MESSAGE_COMPONENT",
    "MODAL_SUBMIT",
    "InteractionRecord",
    "Invoker",
    "button_data",
    "command_data",
    "interaction_payload",
    "modal_components",
]

APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
MODAL_SUBMIT = 5
_SUB_COMMAND, _SUB_COMMAND_GROUP = 1, 2
_STRING, _INTEGER, _BOOLEAN, _NUMBER = 3, 4, 5, 10
_BUTTON, _TEXT_INPUT, _ACTION_ROW = 2, 4, 1
_ATTACHMENT_LIMIT = 10 * 1024 * 1024


@dataclass(frozen=True)
class Invoker:
    """Who triggers an interaction, and where: a guild member in a channel (or thread)."""

    member: Json
    channel: Json
    app_permissions: str


@dataclass
class InteractionRecord:
    """One delivered interaction and everything the bot answered to it, in order."""

    id: str
    token: str
    type: int
    channel_id: str
    payload: Json
    created_at: float = field(default_factory=time.monotonic)
    responses: list[Json] = field(default_factory=list)
    original_message_id: str | None = None
    followup_ids: list[str] = field(default_factory=list)

    @property
    def acknowledged(self) -> bool:
        return bool(self.responses)

    @property
    def source_message_id(self) -> str | None:
        """The message a component was clicked on (what an UPDATE_MESSAGE edits)."""
        message = self.payload.get("message")
        return str(message["id"]) if message else None


def interaction_payload(
    ids: tuple[str, str, str], kind: int, invoker: Invoker, data: Json, **extra: Any
) -> Json:
    """The common shape; ``ids`` is (interaction id, token, application id)."""
    interaction_id, token, app_id = ids
    guild_id = invoker.channel["guild_id"]
    channel_keys = ("id", "type", "name", "guild_id", "parent_id", "thread_metadata")
    channel = {k: invoker.channel[k] for k in channel_keys if k in invoker.channel}
    return {
        "id": interaction_id,
        "application_id": app_id,
        "type": kind,
        "token": token,
        "version": 1,
        "locale": "en-US",
        "guild_locale": "en-US",
        "guild_id": guild_id,
        "channel_id": invoker.channel["id"],
        "channel": {**channel, "permissions": invoker.member["permissions"]},
        "member": invoker.member,
        "app_permissions": invoker.app_permissions,
        "authorizing_integration_owners": {"0": guild_id},
        "context": 0,
        "attachment_size_limit": _ATTACHMENT_LIMIT,
        "entitlements": [],
        "data": data,
        **extra,
    }


def command_data(command_id: str, path: list[str], options: dict[str, Any], guild_id: str) -> Json:
    """``data`` of a slash command; ``path`` is [name, (group,) (subcommand)]."""
    leaf = [_option(name, value) for name, value in options.items()]
    for depth, name in reversed(list(enumerate(path[1:], start=1))):
        kind = _SUB_COMMAND if depth == len(path) - 1 else _SUB_COMMAND_GROUP
        leaf = [{"name": name, "type": kind, "options": leaf}]
    return {"id": command_id, "name": path[0], "type": 1, "options": leaf, "guild_id": guild_id}


def _option(name: str, value: Any) -> Json:
    if isinstance(value, bool):
        kind = _BOOLEAN
    elif isinstance(value, int):
        kind = _INTEGER
    elif isinstance(value, float):
        kind = _NUMBER
    else:
        kind, value = _STRING, str(value)
    return {"name": name, "type": kind, "value": value}


def button_data(custom_id: str) -> Json:
    return {"custom_id": custom_id, "component_type": _BUTTON}


def modal_components(values: dict[str, str]) -> list[Json]:
    """What a modal submit carries: one action row per text input, numbered like Discord."""
    rows = []
    for number, (custom_id, value) in enumerate(values.items()):
        text = {"type": _TEXT_INPUT, "id": 2 * number + 2, "custom_id": custom_id, "value": value}
        rows.append({"type": _ACTION_ROW, "id": 2 * number + 1, "components": [text]})
    return rows
