"""Snowflakes, bot tokens and timestamps shaped like Discord's."""

from __future__ import annotations

import base64
import itertools
import secrets
import time
from datetime import UTC, datetime

__all__ = ["DISCORD_EPOCH_MS", "Snowflakes", "bot_token", "iso_now", "token_app_id"]

DISCORD_EPOCH_MS = 1_420_070_400_000


class Snowflakes:
    """Increasing snowflake ids (as strings, like the wire): timestamp, then a counter."""

    def __init__(self) -> None:
        self._counter = itertools.count()

    def next(self) -> str:
        millis = int(time.time() * 1000) - DISCORD_EPOCH_MS
        return str((millis << 22) | (next(self._counter) & 0x3FFFFF))


def bot_token(app_id: str) -> str:
    """A token hikari accepts: its first segment is the base64 of the bot's user id."""
    head = base64.b64encode(app_id.encode()).decode().rstrip("=")
    stamp = base64.urlsafe_b64encode(int(time.time()).to_bytes(4, "big")).decode().rstrip("=")
    return f"{head}.{stamp}.{secrets.token_urlsafe(27)}"


def token_app_id(token: str) -> str:
    head = token.split(".", 1)[0]
    return base64.b64decode(head + "=" * (-len(head) % 4)).decode()


def iso_now() -> str:
    return datetime.now(UTC).isoformat()
