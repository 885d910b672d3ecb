"""An interaction as the handler sees it, what it answers, and what a transport sends."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.gateway.discord import wire
from services.gateway.discord.wire import Json
from shared.platform.errors import BadRequest

__all__ = ["Answer", "Interaction", "Reply", "refusal"]


@dataclass(frozen=True)
class Interaction:
    """The parts of Discord's interaction payload the handler uses."""

    id: str
    token: str
    application_id: str
    type: int
    guild_id: str | None
    channel_id: str | None
    user_id: str | None
    role_ids: list[str]
    data: Json
    message: Json = field(default_factory=dict)  # the message a component sits on
    received_at: float = field(default_factory=time.monotonic)

    @property
    def actor_name(self) -> str:
        return f"discord:{self.user_id}"

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Interaction:
        try:
            member = payload.get("member") or {}
            user = member.get("user") or payload.get("user") or {}
            return cls(
                id=str(payload["id"]),
                token=str(payload["token"]),
                application_id=str(payload["application_id"]),
                type=int(payload["type"]),
                guild_id=_optional_str(payload.get("guild_id")),
                channel_id=_optional_str(payload.get("channel_id")),
                user_id=_optional_str(user.get("id")),
                role_ids=[str(r) for r in member.get("roles") or []],
                data=dict(payload.get("data") or {}),
                message=dict(payload.get("message") or {}),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadRequest(f"Not a Discord interaction: {exc!r} is missing or wrong.") from exc


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True)
class Answer:
    """What the user gets: a message (4), an edit of the clicked message (7), or a modal (9)."""

    kind: int
    data: Json

    @property
    def is_ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & wire.EPHEMERAL)


def refusal(text: str) -> Answer:
    return Answer(wire.MESSAGE, wire.ephemeral(text))


@dataclass(frozen=True)
class Reply:
    """The initial response JSON, and work to finish after it was sent (a deferred answer).

    `duplicate` marks an interaction another pod (or an earlier delivery) already handles: the
    gateway sends nothing, the HTTP endpoint returns the ephemeral note."""

    response: Json
    later: Callable[[], Awaitable[None]] | None = None
    duplicate: bool = False
