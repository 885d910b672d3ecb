"""Discord's JSON errors: ``{"message": ..., "code": ...}`` with its documented codes."""

from __future__ import annotations

from dataclasses import dataclass

from shared.fakes.discord.payloads import Json

__all__ = [
    "DiscordError",
    "already_acknowledged",
    "invalid_webhook_token",
    "unauthorized",
    "unknown",
]

_UNKNOWN_CODES = {
    "Channel": 10003,
    "Guild": 10004,
    "Member": 10007,
    "Message": 10008,
    "Role": 10011,
    "Webhook": 10015,
    "Application": 10002,
    "Application Command": 10063,
    "interaction": 10062,
}


@dataclass
class DiscordError(Exception):
    status: int
    code: int
    message: str

    def body(self) -> Json:
        return {"message": self.message, "code": self.code}


def unknown(what: str) -> DiscordError:
    return DiscordError(404, _UNKNOWN_CODES.get(what, 0), f"Unknown {what}")


def unauthorized() -> DiscordError:
    return DiscordError(401, 0, "401: Unauthorized")


def already_acknowledged() -> DiscordError:
    return DiscordError(400, 40060, "Interaction has already been acknowledged.")


def invalid_webhook_token() -> DiscordError:
    return DiscordError(401, 50027, "Invalid Webhook Token")
