"""REST routes of the guild: the guild, its channels, roles and members."""

from __future__ import annotations

from aiohttp import web

from shared.fakes.discord import routes
from shared.fakes.discord.errors import DiscordError, unknown
from shared.fakes.discord.events import GUILDS
from shared.fakes.discord.payloads import GUILD_TEXT, Json
from shared.fakes.discord.rest_support import body_of, json_response
from shared.fakes.discord.state import STATE, FakeState

__all__ = ["guild_routes"]

guild_routes = web.RouteTableDef()


def _route(key: str) -> tuple[str, str]:
    return routes.path_of(key)


def _guild(request: web.Request) -> FakeState:
    state = request.app[STATE]
    if request.match_info["guild_id"] != state.world.guild_id:
        raise unknown("Guild")
    return state


@guild_routes.route(*_route(routes.GET_GUILD))
async def get_guild(request: web.Request) -> web.Response:
    return json_response(_guild(request).world.guild)


@guild_routes.route(*_route(routes.LIST_CHANNELS))
async def list_channels(request: web.Request) -> web.Response:
    channels = _guild(request).world.channels.values()
    return json_response([c for c in channels if "thread_metadata" not in c])


@guild_routes.route(*_route(routes.CREATE_CHANNEL))
async def create_channel(request: web.Request) -> web.Response:
    state = _guild(request)
    body = body_of(request)
    name = str(body.get("name") or "")
    if not 1 <= len(name) <= 100:
        raise DiscordError(
            400, 50035, "Invalid Form Body: name: Must be between 1 and 100 in length."
        )
    if int(body.get("type") or GUILD_TEXT) != GUILD_TEXT:
        raise DiscordError(400, 50035, "Invalid Form Body: type: the fake makes text channels only")
    fields = {k: body[k] for k in ("topic", "parent_id", "nsfw") if k in body}
    channel = state.world.create_channel(name.lower().replace(" ", "-"), **fields)
    await state.hub.sessions.dispatch("CHANNEL_CREATE", channel, GUILDS)
    return json_response(channel, 201)


@guild_routes.route(*_route(routes.LIST_ROLES))
async def list_roles(request: web.Request) -> web.Response:
    return json_response(_guild(request).world.guild["roles"])


@guild_routes.route(*_route(routes.CREATE_ROLE))
async def create_role(request: web.Request) -> web.Response:
    body = body_of(request)
    world = _guild(request).world
    role = world.add_role(str(body.get("name") or "new role"), str(body.get("permissions") or "0"))
    return json_response(role)


@guild_routes.route(*_route(routes.LIST_MEMBERS))
async def list_members(request: web.Request) -> web.Response:
    return json_response(list(_guild(request).world.members.values()))


@guild_routes.route(*_route(routes.GET_MEMBER))
async def get_member(request: web.Request) -> web.Response:
    return json_response(_guild(request).world.member(request.match_info["user_id"]))


@guild_routes.route(*_route(routes.PUT_MEMBER_ROLE))
@guild_routes.route(*_route(routes.REMOVE_MEMBER_ROLE))
async def change_member_role(request: web.Request) -> web.Response:
    world = _guild(request).world
    member: Json = world.member(request.match_info["user_id"])
    role_id = request.match_info["role_id"]
    if all(role["id"] != role_id for role in world.guild["roles"]):
        raise unknown("Role")
    roles = [r for r in member["roles"] if r != role_id]
    member["roles"] = [*roles, role_id] if request.method == "PUT" else roles
    return web.Response(status=204)
