"""REST routes of channels and threads: read them, post, edit and delete messages, start threads."""

from __future__ import annotations

from aiohttp import web

from shared.fakes.discord import routes
from shared.fakes.discord.errors import DiscordError
from shared.fakes.discord.events import (
    message_created,
    message_updated,
    thread_created,
    validate_message,
)
from shared.fakes.discord.payloads import PUBLIC_THREAD, Json
from shared.fakes.discord.rest_support import body_of, json_response
from shared.fakes.discord.state import STATE

__all__ = ["channel_routes"]

channel_routes = web.RouteTableDef()
_EDITABLE_CHANNEL = ("name", "topic")
_EDITABLE_THREAD = ("archived", "locked", "auto_archive_duration")
_MAX_PAGE = 100


def _route(key: str) -> tuple[str, str]:
    return routes.path_of(key)


def _ids(request: web.Request) -> tuple[str, str]:
    return request.match_info["channel_id"], request.match_info.get("message_id", "")


@channel_routes.route(*_route(routes.GET_CHANNEL))
async def get_channel(request: web.Request) -> web.Response:
    return json_response(request.app[STATE].world.channel(_ids(request)[0]))


@channel_routes.route(*_route(routes.EDIT_CHANNEL))
async def edit_channel(request: web.Request) -> web.Response:
    state = request.app[STATE]
    channel = state.world.channel(_ids(request)[0])
    body = body_of(request)
    channel.update({k: body[k] for k in _EDITABLE_CHANNEL if k in body})
    if metadata := channel.get("thread_metadata"):
        metadata.update({k: body[k] for k in _EDITABLE_THREAD if k in body})
    event = "THREAD_UPDATE" if "thread_metadata" in channel else "CHANNEL_UPDATE"
    await state.hub.sessions.dispatch(event, channel, 1)
    return json_response(channel)


@channel_routes.route(*_route(routes.LIST_MESSAGES))
async def list_messages(request: web.Request) -> web.Response:
    """Newest first, as Discord pages them; ``limit`` only (no before/after cursors)."""
    messages = request.app[STATE].world.messages(_ids(request)[0])
    limit = min(int(request.query.get("limit", "50")), _MAX_PAGE)
    return json_response(list(reversed(messages))[:limit])


@channel_routes.route(*_route(routes.CREATE_MESSAGE))
async def create_message(request: web.Request) -> web.Response:
    state = request.app[STATE]
    channel_id, _ = _ids(request)
    body = body_of(request)
    validate_message(body)
    _refuse_archived(state.world.channel(channel_id))
    message = state.world.post(channel_id, state.world.bot, body, "bot")
    await message_created(state, message)
    return json_response(message)


def _refuse_archived(channel: Json) -> None:
    if channel.get("thread_metadata", {}).get("archived"):
        raise DiscordError(400, 50083, "Thread is archived")


@channel_routes.route(*_route(routes.GET_MESSAGE))
async def get_message(request: web.Request) -> web.Response:
    return json_response(request.app[STATE].world.message(*_ids(request)))


@channel_routes.route(*_route(routes.EDIT_MESSAGE))
async def edit_message(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = body_of(request)
    validate_message(body, editing=True)
    message = state.world.edit(*_ids(request), body, "bot")
    await message_updated(state, message)
    return json_response(message)


@channel_routes.route(*_route(routes.DELETE_MESSAGE))
async def delete_message(request: web.Request) -> web.Response:
    state = request.app[STATE]
    channel_id, message_id = _ids(request)
    state.world.delete(channel_id, message_id, "bot")
    await state.hub.sessions.dispatch(
        "MESSAGE_DELETE", {"id": message_id, "channel_id": channel_id}
    )
    return web.Response(status=204)


@channel_routes.route(*_route(routes.START_THREAD_FROM_MESSAGE))
async def start_thread_from_message(request: web.Request) -> web.Response:
    state = request.app[STATE]
    channel_id, message_id = _ids(request)
    name = _thread_name(body_of(request))
    if "thread" in state.world.message(channel_id, message_id):
        raise DiscordError(400, 160004, "A thread has already been created for this message")
    thread = state.world.create_thread(
        channel_id, name, from_message=message_id, kind=PUBLIC_THREAD
    )
    await thread_created(state, thread)
    return json_response(thread, 201)


@channel_routes.route(*_route(routes.START_THREAD))
async def start_thread(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = body_of(request)
    kind = int(body.get("type") or PUBLIC_THREAD)
    thread = state.world.create_thread(
        _ids(request)[0], _thread_name(body), from_message=None, kind=kind
    )
    await thread_created(state, thread)
    return json_response(thread, 201)


def _thread_name(body: Json) -> str:
    name = str(body.get("name") or "")
    if not 1 <= len(name) <= 100:
        raise DiscordError(
            400, 50035, "Invalid Form Body: name: Must be between 1 and 100 in length."
        )
    return name


@channel_routes.route(*_route(routes.JOIN_THREAD))
async def join_thread(request: web.Request) -> web.Response:
    request.app[STATE].world.channel(_ids(request)[0])
    return web.Response(status=204)
