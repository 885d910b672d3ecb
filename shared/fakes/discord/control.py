"""``/_fake``: the injection API over HTTP, for a fake run as its own process (demo, e2e).

POST /_fake/slash {"name", "options", "channel_id"?}, /_fake/click {"custom_id", "message_id"?},
/_fake/modal {"custom_id", "values"}, /_fake/disconnect {"code"}, /_fake/invalid-session
{"resumable"}, /_fake/rate-limit {"route", "count", "retry_after", "scope"?}; GET /_fake/info,
/_fake/stats, /_fake/channels/{channel_id}/messages, /_fake/channels/{channel_id}/threads.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from shared.fakes.discord import injection
from shared.fakes.discord.interactions import InteractionRecord
from shared.fakes.discord.state import STATE

__all__ = ["control_routes"]

control_routes = web.RouteTableDef()


async def _body(request: web.Request) -> dict[str, Any]:
    body = await request.json() if request.can_read_body else {}
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="expected a JSON object")
    return body


def _record(record: InteractionRecord) -> web.Response:
    return web.json_response({"id": record.id, "token": record.token, "type": record.type})


@control_routes.get("/_fake/info")
async def info(request: web.Request) -> web.Response:
    state = request.app[STATE]
    world = state.world
    return web.json_response(
        {"app_id": world.app_id, "token": state.config.token, "guild_id": world.guild_id,
         "channel_id": world.channel_id, "gateway_url": state.gateway_url}
    )  # fmt: skip


@control_routes.get("/_fake/stats")
async def stats(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].stats.summary())


@control_routes.get("/_fake/channels/{channel_id}/messages")
async def messages(request: web.Request) -> web.Response:
    return web.json_response(request.app[STATE].world.messages(request.match_info["channel_id"]))


@control_routes.get("/_fake/channels/{channel_id}/threads")
async def threads(request: web.Request) -> web.Response:
    """The threads started in the channel, oldest first."""
    return web.json_response(request.app[STATE].world.threads(request.match_info["channel_id"]))


@control_routes.post("/_fake/slash")
async def slash(request: web.Request) -> web.Response:
    body = await _body(request)
    state = request.app[STATE]
    options = body.get("options") or {}
    return _record(
        await injection.inject_slash(state, body["name"], options, body.get("channel_id"))
    )


@control_routes.post("/_fake/click")
async def click(request: web.Request) -> web.Response:
    body = await _body(request)
    state = request.app[STATE]
    return _record(await injection.click_button(state, body["custom_id"], body.get("message_id")))


@control_routes.post("/_fake/modal")
async def modal(request: web.Request) -> web.Response:
    body = await _body(request)
    state = request.app[STATE]
    return _record(await injection.submit_modal(state, body["custom_id"], body.get("values") or {}))


@control_routes.post("/_fake/disconnect")
async def disconnect(request: web.Request) -> web.Response:
    code = int((await _body(request)).get("code", 4000))
    return web.json_response(
        {"closed": await request.app[STATE].hub.disconnect(code, "Unknown error.")}
    )


@control_routes.post("/_fake/invalid-session")
async def invalid_session(request: web.Request) -> web.Response:
    resumable = bool((await _body(request)).get("resumable", False))
    return web.json_response({"sent": await request.app[STATE].hub.invalidate(resumable=resumable)})


@control_routes.post("/_fake/rate-limit")
async def rate_limit(request: web.Request) -> web.Response:
    body = await _body(request)
    scope = body.get("scope", "shared")
    if scope not in ("shared", "user"):
        raise web.HTTPBadRequest(text="scope must be shared or user")
    count, retry_after = int(body.get("count", 1)), float(body.get("retry_after", 1.0))
    request.app[STATE].limiter.add(str(body["route"]), count, retry_after, scope)
    return web.json_response({"route": body["route"]}, status=201)
