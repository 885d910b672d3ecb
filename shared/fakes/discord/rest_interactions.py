"""Interaction callbacks, followups and ``@original`` edits (the webhook routes of a token).

A callback must arrive within the ACK deadline (3 s) and only once; followups and edits
work while the token lives (15 min). Both limits answer with Discord's own errors.
"""

from __future__ import annotations

from aiohttp import web

from shared.fakes.discord import routes
from shared.fakes.discord.errors import DiscordError, already_acknowledged, unknown
from shared.fakes.discord.events import message_created, message_updated, validate_message
from shared.fakes.discord.interactions import (
    APPLICATION_COMMAND,
    MESSAGE_COMPONENT,
    InteractionRecord,
)
from shared.fakes.discord.messages import CHAT_INPUT_COMMAND, EPHEMERAL, LOADING
from shared.fakes.discord.payloads import Json
from shared.fakes.discord.rest_support import body_of, json_response
from shared.fakes.discord.state import STATE, FakeState

__all__ = ["interaction_routes"]

interaction_routes = web.RouteTableDef()
MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE_MESSAGE, MODAL = 4, 5, 6, 7, 9
_COMPONENT_ONLY = frozenset({DEFERRED_UPDATE, UPDATE_MESSAGE})


def _route(key: str) -> tuple[str, str]:
    return routes.path_of(key)


@interaction_routes.route(*_route(routes.INTERACTION_CALLBACK))
async def callback(request: web.Request) -> web.Response:
    state = request.app[STATE]
    info = request.match_info
    record = state.interactions.for_callback(info["interaction_id"], info["token"])
    if record.acknowledged:
        raise already_acknowledged()
    body = body_of(request)
    kind = int(body.get("type", 0))
    message = await _respond(state, record, kind, body.get("data") or {})
    record.responses.append(body)
    if request.query.get("with_response") != "true":
        return web.Response(status=204)
    return json_response(_callback_response(record, kind, message))


async def _respond(
    state: FakeState, record: InteractionRecord, kind: int, data: Json
) -> Json | None:
    if kind in _COMPONENT_ONLY and record.type != MESSAGE_COMPONENT:
        raise DiscordError(
            400, 40043, "Interaction callback type is not valid for this interaction"
        )
    if kind == MESSAGE:
        validate_message(data)
        return await _post_original(state, record, data)
    if kind == DEFERRED_MESSAGE:
        flags = int(data.get("flags") or 0) & EPHEMERAL
        return await _post_original(state, record, {"content": "", "flags": flags | LOADING})
    if kind in _COMPONENT_ONLY:
        return await _update_source(state, record, data if kind == UPDATE_MESSAGE else None)
    if kind != MODAL:
        raise DiscordError(400, 50035, f"Invalid Form Body: type: unsupported callback type {kind}")
    return None


async def _post_original(state: FakeState, record: InteractionRecord, data: Json) -> Json:
    world = state.world
    extra: Json = {"webhook_id": world.app_id, "application_id": world.app_id}
    extra["interaction_metadata"] = _metadata(record)
    if record.type == APPLICATION_COMMAND:
        extra["type"] = CHAT_INPUT_COMMAND
    message = world.post(record.channel_id, world.bot, data, "interaction", **extra)
    record.original_message_id = message["id"]
    await message_created(state, message)
    return message


async def _update_source(state: FakeState, record: InteractionRecord, data: Json | None) -> Json:
    source = record.source_message_id
    if source is None:
        raise DiscordError(
            400, 40043, "Interaction callback type is not valid for this interaction"
        )
    record.original_message_id = source
    if data is None:
        return state.world.message(record.channel_id, source)
    validate_message(data, editing=True)
    message = state.world.edit(record.channel_id, source, data, "interaction")
    await message_updated(state, message)
    return message


def _metadata(record: InteractionRecord) -> Json:
    payload = record.payload
    metadata: Json = {
        "id": record.id,
        "type": record.type,
        "user": payload["member"]["user"],
        "authorizing_integration_owners": payload["authorizing_integration_owners"],
    }
    if record.type == MESSAGE_COMPONENT:
        metadata["interacted_message_id"] = record.source_message_id
    elif record.type != APPLICATION_COMMAND:
        metadata["triggering_interaction_metadata"] = {**metadata, "type": APPLICATION_COMMAND}
    return metadata


def _callback_response(record: InteractionRecord, kind: int, message: Json | None) -> Json:
    interaction: Json = {"id": record.id, "type": record.type}
    resource: Json = {"type": kind}
    if message is not None:
        interaction["response_message_id"] = message["id"]
        interaction["response_message_loading"] = bool(message["flags"] & LOADING)
        interaction["response_message_ephemeral"] = bool(message["flags"] & EPHEMERAL)
        resource["message"] = message
    return {"interaction": interaction, "resource": resource}


def _webhook_record(request: web.Request) -> tuple[FakeState, InteractionRecord]:
    state = request.app[STATE]
    info = request.match_info
    return state, state.interactions.for_webhook(info["application_id"], info["token"])


def _original_id(record: InteractionRecord) -> str:
    if record.original_message_id is None:
        raise unknown("Message")
    return record.original_message_id


@interaction_routes.route(*_route(routes.GET_ORIGINAL))
async def get_original(request: web.Request) -> web.Response:
    state, record = _webhook_record(request)
    return json_response(state.world.message(record.channel_id, _original_id(record)))


@interaction_routes.route(*_route(routes.EDIT_ORIGINAL))
async def edit_original(request: web.Request) -> web.Response:
    state, record = _webhook_record(request)
    return await _edit(state, record, _original_id(record), body_of(request))


@interaction_routes.route(*_route(routes.DELETE_ORIGINAL))
async def delete_original(request: web.Request) -> web.Response:
    state, record = _webhook_record(request)
    state.world.delete(record.channel_id, _original_id(record), "interaction")
    return web.Response(status=204)


@interaction_routes.route(*_route(routes.EDIT_FOLLOWUP))
async def edit_followup(request: web.Request) -> web.Response:
    state, record = _webhook_record(request)
    message_id = request.match_info["message_id"]
    if message_id not in record.followup_ids:
        raise unknown("Message")
    return await _edit(state, record, message_id, body_of(request))


async def _edit(
    state: FakeState, record: InteractionRecord, message_id: str, body: Json
) -> web.Response:
    validate_message(body, editing=True)
    message = state.world.edit(record.channel_id, message_id, body, "interaction")
    await message_updated(state, message)
    return json_response(message)


@interaction_routes.route(*_route(routes.CREATE_FOLLOWUP))
async def create_followup(request: web.Request) -> web.Response:
    """A followup needs the interaction ACKed first; without ``wait=true`` it answers 204."""
    state, record = _webhook_record(request)
    if not record.acknowledged:
        raise unknown("Webhook")
    body = body_of(request)
    validate_message(body)
    world = state.world
    extra = {"webhook_id": world.app_id, "application_id": world.app_id}
    message = world.post(record.channel_id, world.bot, body, "followup", **extra)
    record.followup_ids.append(message["id"])
    await message_created(state, message)
    if request.query.get("wait") != "true":
        return web.Response(status=204)
    return json_response(message)
