"""REST routes about the bot itself: gateway discovery, own user, application, commands."""

from __future__ import annotations

from aiohttp import web

from shared.fakes.discord import routes
from shared.fakes.discord.errors import DiscordError, unknown
from shared.fakes.discord.payloads import application
from shared.fakes.discord.rest_support import BODY, body_of, json_response
from shared.fakes.discord.state import STATE, FakeState

__all__ = ["app_routes"]

app_routes = web.RouteTableDef()


def _route(key: str) -> tuple[str, str]:
    return routes.path_of(key)


@app_routes.route(*_route(routes.GATEWAY_BOT))
async def gateway_bot(request: web.Request) -> web.Response:
    state = request.app[STATE]
    total = state.config.session_start_limit
    limit = {
        "total": total,
        "remaining": max(total - state.stats.identifies, 0),
        "reset_after": 86_400_000,
        "max_concurrency": 1,
    }
    return json_response({"url": state.gateway_url, "shards": 1, "session_start_limit": limit})


@app_routes.route(*_route(routes.MY_USER))
async def my_user(request: web.Request) -> web.Response:
    return json_response(request.app[STATE].world.bot)


@app_routes.route(*_route(routes.MY_APPLICATION))
@app_routes.route(*_route(routes.MY_OAUTH_APPLICATION))
async def my_application(request: web.Request) -> web.Response:
    world = request.app[STATE].world
    return json_response(application(world.app_id, world.bot["username"], world.human))


def _scope(request: web.Request, state: FakeState) -> str | None:
    if request.match_info["application_id"] != state.config.app_id:
        raise unknown("Application")
    guild_id = request.match_info.get("guild_id")
    if guild_id is not None and guild_id != state.world.guild_id:
        raise unknown("Guild")
    return guild_id


@app_routes.route(*_route(routes.OVERWRITE_GLOBAL_COMMANDS))
@app_routes.route(*_route(routes.OVERWRITE_GUILD_COMMANDS))
async def overwrite_commands(request: web.Request) -> web.Response:
    state = request.app[STATE]
    bodies = request.get(BODY)
    if not isinstance(bodies, list) or not all(isinstance(b, dict) and "name" in b for b in bodies):
        raise DiscordError(400, 50035, "Invalid Form Body: expected a list of commands")
    return json_response(state.commands.overwrite(_scope(request, state), bodies))


@app_routes.route(*_route(routes.LIST_GLOBAL_COMMANDS))
@app_routes.route(*_route(routes.LIST_GUILD_COMMANDS))
async def list_commands(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return json_response(state.commands.list(_scope(request, state)))


@app_routes.route(*_route(routes.CREATE_GLOBAL_COMMAND))
@app_routes.route(*_route(routes.CREATE_GUILD_COMMAND))
async def create_command(request: web.Request) -> web.Response:
    state = request.app[STATE]
    body = body_of(request)
    if "name" not in body:
        raise DiscordError(400, 50035, "Invalid Form Body: name: This field is required")
    return json_response(state.commands.upsert(_scope(request, state), body), 201)


@app_routes.route(*_route(routes.DELETE_GLOBAL_COMMAND))
@app_routes.route(*_route(routes.DELETE_GUILD_COMMAND))
async def delete_command(request: web.Request) -> web.Response:
    state = request.app[STATE]
    state.commands.delete(_scope(request, state), request.match_info["command_id"])
    return web.Response(status=204)
