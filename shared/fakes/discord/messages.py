"""Messages as Discord stores them: built from a create body, merged with an edit body."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from shared.fakes.discord.ids import iso_now
from shared.fakes.discord.payloads import Json

__all__ = ["EPHEMERAL", "LOADING", "apply_edit", "new_message"]

EPHEMERAL = 1 << 6
LOADING = 1 << 7
DEFAULT = 0
REPLY = 19
CHAT_INPUT_COMMAND = 20
_EDITABLE = ("content", "embeds", "components", "attachments", "flags", "poll")


def new_message(message_id: str, channel: Json, author: Json, body: Json, **extra: Any) -> Json:
    """The stored message for a create body; ``extra`` adds e.g. webhook_id, interaction_metadata."""
    message: Json = {
        "id": message_id,
        "channel_id": channel["id"],
        "author": author,
        "content": body.get("content") or "",
        "timestamp": iso_now(),
        "edited_timestamp": None,
        "tts": bool(body.get("tts", False)),
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": body.get("embeds") or [],
        "components": _with_ids(body.get("components") or []),
        "pinned": False,
        "type": REPLY if body.get("message_reference") else DEFAULT,
        "flags": int(body.get("flags") or 0),
        **extra,
    }
    if "guild_id" in channel:
        message["guild_id"] = channel["guild_id"]
    if reference := body.get("message_reference"):
        message["message_reference"] = {"channel_id": channel["id"], **reference}
    return message


def apply_edit(message: Json, body: Json) -> Json:
    """The message after an edit: only the fields the body names change (null clears)."""
    edited = dict(message)
    for key in _EDITABLE:
        if key in body:
            edited[key] = body[key] if body[key] is not None else _cleared(key)
    edited["components"] = _with_ids(edited.get("components") or [])
    edited["flags"] = int(edited.get("flags") or 0) & ~LOADING
    edited["edited_timestamp"] = iso_now()
    return edited


def _cleared(key: str) -> Any:
    return "" if key == "content" else 0 if key == "flags" else []


def _with_ids(components: list[Json]) -> list[Json]:
    """Discord numbers every component of a message that the sender left unnumbered."""
    numbers = itertools.count(1)
    return [_numbered(component, numbers) for component in components]


def _numbered(component: Json, numbers: Iterator[int]) -> Json:
    numbered = {**component, "id": component.get("id") or next(numbers)}
    if children := component.get("components"):
        numbered["components"] = [_numbered(child, numbers) for child in children]
    return numbered
