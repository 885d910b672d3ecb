"""Discord's wire vocabulary and limits (API v10), and builders for the JSON we answer with."""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "AUTOCOMPLETE",
    "BOOLEAN",
    "COMMAND",
    "COMPONENT",
    "EPHEMERAL",
    "INTEGER",
    "MAX_CHOICES",
    "MAX_CONTENT",
    "MAX_DESCRIPTION",
    "MAX_OPTIONS",
    "MODAL_SUBMIT",
    "NAME_PATTERN",
    "PING",
    "STRING",
    "SUB_COMMAND",
    "SUB_COMMAND_GROUP",
    "Json",
    "ephemeral",
    "fit",
    "response",
]

Json = dict[str, Any]

# Interaction types
PING, COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
# Callback (response) types
PONG, MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE = 1, 4, 5, 6, 7
CHOICES_RESULT, MODAL = 8, 9
# Application command option types
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN = 1, 2, 3, 4, 5
# Component types and button styles
ACTION_ROW, BUTTON, TEXT_INPUT = 1, 2, 4
PRIMARY, SECONDARY, SUCCESS, DANGER = 1, 2, 3, 4
PARAGRAPH = 2

EPHEMERAL = 1 << 6
NAME_PATTERN = re.compile(r"^[-_\w]{1,32}$")  # \w is letters, digits and _ under re.UNICODE
MAX_NAME = 32
MAX_DESCRIPTION = 100
MAX_OPTIONS = 25
MAX_CHOICES = 25
MAX_STRING_OPTION = 6000
MAX_CONTENT = 2000
MAX_EMBED_TITLE = 256
MAX_EMBED_DESCRIPTION = 4096
MAX_EMBED_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_EMBED_TOTAL = 6000
MAX_ROWS = 5
MAX_BUTTONS_PER_ROW = 5
MAX_CUSTOM_ID = 100


def fit(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, marked with an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def response(kind: int, data: Json | None = None) -> Json:
    return {"type": kind} if data is None else {"type": kind, "data": data}


def ephemeral(text: str) -> Json:
    """Message data only the invoking user sees; mentions never ping."""
    return {
        "content": fit(text, MAX_CONTENT),
        "flags": EPHEMERAL,
        "allowed_mentions": {"parse": []},
    }
