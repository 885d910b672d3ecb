"""What every REST call goes through: auth, scripted 429s, Discord's error shape, the log.

The request body is parsed once here (JSON, or multipart with ``payload_json`` as hikari sends
when there are attachments) and handed to handlers as ``request[BODY]``.
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from shared.fakes.discord.buckets import BucketState
from shared.fakes.discord.errors import DiscordError, unauthorized
from shared.fakes.discord.payloads import Json
from shared.fakes.discord.ratelimits import RateLimitHit
from shared.fakes.discord.routes import API_PREFIX, INTERACTION_CALLBACK
from shared.fakes.discord.state import STATE, FakeState
from shared.fakes.discord.stats import RestCall

__all__ = ["BODY", "body_of", "discord_middleware", "json_response", "route_key"]

BODY = web.RequestKey("discord_fake_body", object)
_NO_AUTH_PREFIXES = ("/interactions/", "/webhooks/")
_UNLIMITED = frozenset({INTERACTION_CALLBACK})  # hikari treats this route as unlimited


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.json_response(
        body, status=status, dumps=lambda v: json.dumps(v, separators=(",", ":"))
    )


def body_of(request: web.Request) -> Json:
    body = request.get(BODY)
    return body if isinstance(body, dict) else {}


def route_key(request: web.Request) -> str:
    resource = request.match_info.route.resource
    path = resource.canonical if resource is not None else request.path
    return f"{request.method} {path.removeprefix(API_PREFIX)}"


@web.middleware
async def discord_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(API_PREFIX):
        return await handler(request)
    state = request.app[STATE]
    state.stats.count_request()
    request[BODY] = await _parse_body(request)
    route = route_key(request)
    response = await _answer(request, handler, state, route)
    call = RestCall(time.monotonic(), route, request.path, response.status, request[BODY])
    state.stats.record(call)
    state.changes.notify()
    return response


async def _answer(
    request: web.Request, handler: Handler, state: FakeState, route: str
) -> web.StreamResponse:
    try:
        _check_auth(request, state)
        if (hit := state.limiter.check(route)) is not None:
            return _scripted_429(request, state, route, hit)
        bucket, allowed = _take(request, state, route)
        if not allowed and bucket is not None:
            hit = RateLimitHit(route, bucket.reset_after, "user", early=False)
            return _too_many_requests(hit, bucket)
        response = await handler(request)
    except DiscordError as error:
        return json_response(error.body(), error.status)
    except web.HTTPException as error:
        body = {"message": f"{error.status}: {error.reason}", "code": 0}
        return json_response(body, error.status)
    if bucket is not None:
        response.headers.update(bucket.headers())
    return response


def _take(request: web.Request, state: FakeState, route: str) -> tuple[BucketState | None, bool]:
    if route in _UNLIMITED or request.match_info.route.resource is None:
        return None, True
    return state.buckets.take(route, _major(request))


def _major(request: web.Request) -> str:
    """Discord's major parameter: buckets are per channel, guild or webhook."""
    info = request.match_info
    return info.get("channel_id") or info.get("guild_id") or info.get("token") or ""


def _scripted_429(
    request: web.Request, state: FakeState, route: str, hit: RateLimitHit
) -> web.Response:
    if hit.early:
        state.stats.early_retries += 1
    bucket: BucketState | None = None
    if hit.scope == "user":
        bucket = state.buckets.exhaust(route, _major(request), hit.retry_after)
    elif hit.scope == "shared":
        bucket = state.buckets.take(route, _major(request))[0]
    return _too_many_requests(hit, bucket)


def _check_auth(request: web.Request, state: FakeState) -> None:
    path = request.path.removeprefix(API_PREFIX)
    if path.startswith(_NO_AUTH_PREFIXES):
        return
    if request.headers.get("Authorization") != f"Bot {state.config.token}":
        raise unauthorized()


def _too_many_requests(hit: RateLimitHit, bucket: BucketState | None) -> web.Response:
    response = json_response(hit.body(), 429)
    response.headers.update(hit.headers(bucket))
    return response


async def _parse_body(request: web.Request) -> Any:
    if not request.can_read_body:
        return None
    if request.content_type.startswith("multipart/"):
        form = await request.post()
        raw = form.get("payload_json")
        return json.loads(raw) if isinstance(raw, str) else None
    text = await request.text()
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text
