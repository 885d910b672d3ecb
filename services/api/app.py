"""The FastAPI application: stateless, every replica identical, all state in Redis."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

import httpx
from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from redis.asyncio import Redis
from starlette.routing import BaseRoute, Route

from services.api.board import TimelineHub, board_hub, board_routers, links_router
from services.api.commanding import Commands
from services.api.errors import install_error_handlers
from services.api.flat_routes import add_routes_flat
from services.api.middleware import EdgeMiddleware
from services.api.routes import API_PREFIX, api_routers, health_router
from services.api.routes.interactions import router as discord_interactions_router
from services.api.routes.metrics import router as metrics_router
from services.api.schemas import ErrorBody
from services.gateway.discord.background import rest_bucket
from services.gateway.discord.rest import DiscordRest
from shared.domain.models import ProjectMode
from shared.jobs.queue import create_queue
from shared.observability.serve import observe_process
from shared.platform.redis import create_redis
from shared.platform.settings import Settings, load_settings
from shared.state.store import Store
from shared.workflow.context import Limits

__all__ = ["State", "create_app"]

_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in {
        400: "Bad request",
        401: "Missing or invalid bearer token",
        403: "Role too low",
        413: "Body too large",
        422: "Validation error with field paths",
    }.items()
}


class State(TypedDict):
    settings: Settings
    store: Store
    commands: Commands
    discord_rest: DiscordRest  # one pooled client for every interaction's follow-up calls
    board_hub: TimelineHub  # fans project timelines out to this replica's board streams


def limits_from(settings: Settings) -> Limits:
    return Limits(
        max_concurrent_projects=settings.orchestrator.max_concurrent_projects,
        default_mode=ProjectMode(settings.orchestrator.mode),
    )


@asynccontextmanager
async def _drains(app: FastAPI, hub: TimelineHub) -> AsyncIterator[None]:
    """``app.state.begin_drain()``, callable from a signal handler: ends the board's streams."""
    loop = asyncio.get_running_loop()
    app.state.begin_drain = lambda: loop.call_soon_threadsafe(hub.end_streams)
    try:
        yield
    finally:
        app.state.begin_drain = _nothing_to_drain


def _nothing_to_drain() -> None:
    return None


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or load_settings()
    redis_url = _require_redis_url(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[State]:
        redis = create_redis(redis_url, client_name="awf.api")
        queue = await create_queue(redis_url)
        store = Store(redis)
        http = httpx.AsyncClient(timeout=_DISCORD_TIMEOUT_S)
        try:
            async with board_hub(redis_url, settings) as hub, _drains(app, hub):
                yield State(
                    settings=settings,
                    store=store,
                    commands=Commands(store, limits_from(settings), queue),
                    discord_rest=discord_rest(settings, redis, http),
                    board_hub=hub,
                )
        finally:
            await http.aclose()
            await queue.aclose()
            await redis.aclose()

    app = FastAPI(
        title="awf orchestrator API",
        version="1.0.0",
        summary="Drive AI coding agents through Scrum and strict TDD.",
        lifespan=lifespan,
        responses=_ERRORS,
        telemetry=_OURS_ONLY,
    )
    install_error_handlers(app)
    # FastAPI adds its docs routes first, where every API request would try them before its own
    docs = _take_docs_routes(app)
    for router in api_routers:
        add_routes_flat(app, router, API_PREFIX)
    app.router.routes.extend(docs)
    app.include_router(discord_interactions_router, prefix=API_PREFIX)
    app.include_router(links_router, prefix=API_PREFIX)
    for router in board_routers:
        app.include_router(router)
    app.include_router(health_router)  # last: probes are rare, API requests skip its routes
    if settings.monitoring.metrics_collection:
        app.include_router(metrics_router)
    observe_process("api", settings, serve_metrics=False)
    app.add_middleware(EdgeMiddleware, max_body_bytes=settings.api.max_body_bytes)
    return app


_DISCORD_TIMEOUT_S = 10.0
# EdgeMiddleware makes the request span (with the route template, the trace id for error
# bodies) and the Prometheus RED metrics; FastAPI's native spans would nest a second one.
_OURS_ONLY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def _take_docs_routes(app: FastAPI) -> list[BaseRoute]:
    """The OpenAPI document and docs pages' routes, removed from the app's router."""
    paths = {app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    docs: list[BaseRoute] = [
        r for r in app.router.routes if isinstance(r, Route) and r.path in paths
    ]
    app.router.routes[:] = [r for r in app.router.routes if r not in docs]
    return docs


def discord_rest(settings: Settings, redis: Redis, http: httpx.AsyncClient) -> DiscordRest:
    """Discord REST for the interactions endpoint: through the cluster-wide bucket like the
    gateway's calls."""
    token = settings.discord_bot_token
    secret = token.get_secret_value() if token else None
    bucket = rest_bucket(redis, settings.discord)
    return DiscordRest(http, settings.discord.rest_url, secret, bucket=bucket)


def _require_redis_url(settings: Settings) -> str:
    if not settings.redis_url:
        raise RuntimeError(
            "REDIS_URL is not set: the API keeps all state in a shared Redis. Start the whole "
            "stack with `awf up`, or set REDIS_URL=redis://host:port/0."
        )
    return settings.redis_url
