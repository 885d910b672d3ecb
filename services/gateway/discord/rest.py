"""The Discord REST calls the bot makes, as raw JSON over one injected httpx client.

Interaction callbacks and webhook edits are authorised by the interaction token in the path;
the rest by the bot token. Bot calls first take a token from the cluster-wide bucket (Discord
exempts interaction responses from its global limit, and they must beat the 3 s deadline, so
they skip it). A 429 parks the bucket, or the route, for Discord's wait and the call is
repeated (bounded); an empty route bucket (X-RateLimit-Remaining: 0) parks it ahead of time.
Errors name the route template only: paths hold interaction tokens, which never reach a log.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import structlog

from services.gateway.discord.ratelimit import Throttle, throttle_of
from services.gateway.discord.wire import Json
from shared.state.rate_bucket import GLOBAL_SCOPE, RateLimitWait, RestBucket, route_scope

__all__ = ["DiscordRest", "DiscordRestError"]

log = structlog.get_logger("gateway.discord.rest")

_MAX_RETRIES = 3
_MAX_BUCKETED_RETRIES = 6
_MAX_WAIT_S = 10.0
PUBLIC_THREAD = 11
_ARCHIVE_AFTER_MIN = 10_080  # a week: story threads outlive a sprint


class DiscordRestError(RuntimeError):
    def __init__(self, route: str, status: int, detail: str, code: int = 0) -> None:
        super().__init__(f"Discord {route} answered {status}: {detail}")
        self.route = route
        self.status = status
        self.code = code

    @property
    def retryable(self) -> bool:
        """Worth repeating later: rate limits and Discord's own trouble, not our mistakes."""
        return self.status == 429 or self.status >= 500


class DiscordRest:
    def __init__(
        self,
        client: httpx.AsyncClient,
        base_url: str,
        bot_token: str | None,
        *,
        bucket: RestBucket | None = None,
    ) -> None:
        self._client = client
        self._base = base_url.rstrip("/")
        self._bot_token = bot_token
        self._bucket = bucket

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

    async def create_message(self, channel_id: str, data: Json) -> Json:
        path = f"/channels/{channel_id}/messages"
        route = "POST /channels/{id}/messages"
        return dict(await self._call(route, "POST", path, data, bot=True, major=channel_id))

    async def start_thread(self, channel_id: str, name: str) -> Json:
        """A public thread in the channel, not attached to a message."""
        body = {"name": name, "type": PUBLIC_THREAD, "auto_archive_duration": _ARCHIVE_AFTER_MIN}
        path = f"/channels/{channel_id}/threads"
        route = "POST /channels/{id}/threads"
        return dict(await self._call(route, "POST", path, body, bot=True, major=channel_id))

    async def edit_channel(self, channel_id: str, data: Json) -> None:
        path = f"/channels/{channel_id}"
        await self._call("PATCH /channels/{id}", "PATCH", path, data, bot=True, major=channel_id)

    async def overwrite_commands(
        self, app_id: str, bodies: list[Json], guild_id: str | None = None
    ) -> None:
        scope = f"/guilds/{guild_id}" if guild_id else ""
        path = f"/applications/{app_id}{scope}/commands"
        route = "PUT /applications/{app}/commands"
        await self._call(route, "PUT", path, bodies, bot=True, major=app_id)

    async def guild_roles(self, guild_id: str) -> list[Json]:
        path = f"/guilds/{guild_id}/roles"
        roles = await self._call("GET /guilds/{id}/roles", "GET", path, bot=True, major=guild_id)
        return list(roles or [])

    async def _call(
        self,
        route: str,
        method: str,
        path: str,
        body: Any = None,
        *,
        bot: bool = False,
        major: str = "",
    ) -> Any:
        headers = self._auth() if bot else {}
        bucket = self._bucket if bot else None
        scope = route_scope(route, major)
        retries = _MAX_BUCKETED_RETRIES if bucket else _MAX_RETRIES
        for attempt in range(retries + 1):
            await self._admit(bucket, scope, route)
            reply = await self._client.request(
                method, self._base + path, json=body, headers=headers
            )
            throttle = throttle_of(reply)
            if throttle is not None:
                await self._respect(bucket, scope, route, throttle, attempt == retries)
            if reply.status_code != 429:
                break
        if reply.status_code >= 400:
            raise DiscordRestError(route, reply.status_code, *_detail(reply))
        return reply.json() if reply.content else None

    async def _admit(self, bucket: RestBucket | None, scope: str, route: str) -> None:
        if bucket is None:
            return
        try:
            await bucket.acquire(scope)
        except RateLimitWait as exc:
            raise DiscordRestError(route, 429, str(exc)) from exc

    async def _respect(
        self, bucket: RestBucket | None, scope: str, route: str, throttle: Throttle, last: bool
    ) -> None:
        if throttle.limited:
            log.info(
                "discord_rate_limited",
                route=route,
                retry_after=throttle.seconds,
                is_global=throttle.is_global,
            )
        if bucket is not None:
            await bucket.park(GLOBAL_SCOPE if throttle.is_global else scope, throttle.seconds)
        elif throttle.limited and not last:
            await asyncio.sleep(min(throttle.seconds, _MAX_WAIT_S))

    def _auth(self) -> dict[str, str]:
        if not self._bot_token:
            raise DiscordRestError("auth", 401, "no bot token configured (DISCORD_BOT_TOKEN)")
        return {"Authorization": f"Bot {self._bot_token}"}


def _detail(reply: httpx.Response) -> tuple[str, int]:
    try:
        body = reply.json()
        return str(body.get("message", ""))[:200], int(body.get("code") or 0)
    except (ValueError, AttributeError, TypeError):
        return reply.text[:200], 0
