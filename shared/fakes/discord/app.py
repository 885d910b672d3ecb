"""The aiohttp application: REST under ``/api/v10``, the gateway at ``/gateway``."""

from __future__ import annotations

from aiohttp import web

from shared.fakes.discord.control import control_routes
from shared.fakes.discord.rest_app import app_routes
from shared.fakes.discord.rest_channels import channel_routes
from shared.fakes.discord.rest_guild import guild_routes
from shared.fakes.discord.rest_interactions import interaction_routes
from shared.fakes.discord.rest_support import discord_middleware
from shared.fakes.discord.state import STATE, FakeState

__all__ = ["GATEWAY_PATH", "create_app"]

GATEWAY_PATH = "/gateway"


def create_app(state: FakeState) -> web.Application:
    app = web.Application(middlewares=[discord_middleware], client_max_size=25 * 1024 * 1024)
    app[STATE] = state
    for table in (app_routes, guild_routes, channel_routes, interaction_routes, control_routes):
        app.add_routes(table)
    app.router.add_get(GATEWAY_PATH, state.hub.handle)
    app.on_shutdown.append(_close_gateway)
    return app


async def _close_gateway(app: web.Application) -> None:
    await app[STATE].hub.close_all()
