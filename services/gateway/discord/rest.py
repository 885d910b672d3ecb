"""The Discord REST calls the bot makes, as raw JSON over one injected httpx client.

Interaction callbacks and webhook edits are authorised by the interaction token in the path;
the rest by the bot token. A 429 is retried after Discord's `retry_after` (bounded). Errors
name the route template only: paths hold interaction tokens, which never reach a log.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import structlog

from services.gateway.discord.wire import Json

__all__ = ["DiscordRest", "DiscordRestError"]

log = structlog.get_logger("gateway.discord.rest")

_MAX_RETRIES = 3
_MAX_WAIT_S = 10.0


class DiscordRestError(RuntimeError):
    def __init__(self, route: str, status: int, detail: str) -> None:
        super().__init__(f"Discord {route} answered {status}: {detail}")
        self.route = route
        self.status = status


class DiscordRest:
    def __init__(self, client: httpx.AsyncClient, base_url: str, bot_token: str | None) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._bot_token = bot_token

    async def callback(self, interaction_id: str, token: str, body: Json) -> None:
        route = "POST /interactions/{id}/{token}/callback"
        await self._call(route, "POST", f"/interactions/{interaction_id}/{token}/callback", body)

    async def edit_original(self, app_id: str, token: str, data: Json) -> None:
        path = f"/webhooks/{app_id}/{token}/messages/@original"
        await self._call("PATCH /webhooks/{app}/{token}/messages/@original", "PATCH", path, data)

    async def delete_original(self, app_id: str, token: str) -> None:
        path = f"/webhooks/{app_id}/{token}/messages/@original"
        await self._call("DELETE /webhooks/{app}/{token}/messages/@original", "DELETE", path)

    async def followup(self, app_id: str, token: str, data: Json) -> None:
        await self._call(
            "POST /webhooks/{app}/{token}", "POST", f"/webhooks/{app_id}/{token}", data
        )

    async def create_message(self, channel_id: str, data: Json) -> None:
        path = f"/channels/{channel_id}/messages"
        await self._call("POST /channels/{id}/messages", "POST", path, data, bot=True)

    async def overwrite_commands(
        self, app_id: str, bodies: list[Json], guild_id: str | None = None
    ) -> None:
        scope = f"/guilds/{guild_id}" if guild_id else ""
        path = f"/applications/{app_id}{scope}/commands"
        await self._call("PUT /applications/{app}/commands", "PUT", path, bodies, bot=True)

    async def guild_roles(self, guild_id: str) -> list[Json]:
        path = f"/guilds/{guild_id}/roles"
        roles = await self._call("GET /guilds/{id}/roles", "GET", path, bot=True)
        return list(roles or [])

    async def _call(
        self, route: str, method: str, path: str, body: Any = None, *, bot: bool = False
    ) -> Any:
        headers = self._auth() if bot else {}
        for attempt in range(_MAX_RETRIES + 1):
            reply = await self._client.request(
                method, self._base + path, json=body, headers=headers
            )
            if reply.status_code != 429 or attempt == _MAX_RETRIES:
                break
            await asyncio.sleep(_retry_after(reply))
        if reply.status_code >= 400:
            raise DiscordRestError(route, reply.status_code, _detail(reply))
        return reply.json() if reply.content else None

    def _auth(self) -> dict[str, str]:
        if not self._bot_token:
            raise DiscordRestError("auth", 401, "no bot token configured (DISCORD_BOT_TOKEN)")
        return {"Authorization": f"Bot {self._bot_token}"}


def _retry_after(reply: httpx.Response) -> float:
    try:
        seconds = float(reply.json().get("retry_after", 1.0))
    except (ValueError, AttributeError):
        seconds = float(reply.headers.get("Retry-After", "1") or 1)
    log.info("discord_rate_limited", retry_after=seconds)
    return min(max(seconds, 0.0), _MAX_WAIT_S)


def _detail(reply: httpx.Response) -> str:
    try:
        return str(reply.json().get("message", ""))[:200]
    except (ValueError, AttributeError):
        return reply.text[:200]
