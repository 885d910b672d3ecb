"""The board's event stream endpoints (text/event-stream), and the hub's place in the lifespan."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from services.api.board.hub import HubFull, TimelineHub
from services.api.board.session import ApiUser
from services.api.board.stream import StreamLimits, overview_stream, project_stream
from services.api.deps import SettingsDep, StoreDep
from shared.platform.errors import BadRequest
from shared.platform.redis import create_redis
from shared.platform.settings import Settings
from shared.workflow.repo import load_project

__all__ = ["board_hub", "router"]

router = APIRouter(prefix="/board", include_in_schema=False)
_STREAM_ID = r"^\d{1,19}-\d{1,19}$"
_MAX_OVERVIEW = 100
_PROJECT = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_HEADERS = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no"}


@asynccontextmanager
async def board_hub(redis_url: str, settings: Settings) -> AsyncIterator[TimelineHub]:
    """The replica's hub, on its own client: XREAD BLOCK needs no socket timeout."""
    redis = create_redis(redis_url, client_name="awf.api.board", socket_timeout=None)
    hub = TimelineHub(redis, max_streams=settings.api.board_max_streams)
    try:
        yield hub
    finally:
        await hub.aclose()
        await redis.aclose()


def _limits(settings: Settings) -> StreamLimits:
    return StreamLimits(settings.api.board_heartbeat_s, settings.api.board_stream_max_s)


def _hub(request: Request) -> TimelineHub:
    hub: TimelineHub = request.state.board_hub
    return hub


def _busy(hub: TimelineHub) -> Response | None:
    if hub.streams < hub.max_streams:
        return None
    body = {"type": "unavailable", "message": "This replica serves its maximum of board streams."}
    return JSONResponse(body, status_code=503, headers={"Retry-After": "5"})


async def _guarded(chunks: AsyncIterator[str]) -> AsyncIterator[str]:
    """A stream that lost the race for the last slot ends at once; the browser retries."""
    try:
        async for chunk in chunks:
            yield chunk
    except HubFull:
        return


@router.get("/p/{project_id}/events")
async def project_events(
    project_id: Annotated[str, Path(pattern=_PROJECT.pattern)],
    request: Request,
    _: ApiUser,
    store: StoreDep,
    settings: SettingsDep,
    after: Annotated[str | None, Query(pattern=_STREAM_ID)] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> Response:
    """The project's timeline as Server-Sent Events, after `Last-Event-ID` (a reconnect), else
    after `after` (the page's start), else from now."""
    await load_project(store, project_id)
    if last_event_id is not None and not _valid(last_event_id):
        raise BadRequest("Last-Event-ID must be a timeline id such as 1700000000000-0.")
    hub = _hub(request)
    if (busy := _busy(hub)) is not None:
        return busy
    chunks = project_stream(hub, store.redis, project_id, last_event_id or after, _limits(settings))
    return StreamingResponse(_guarded(chunks), media_type="text/event-stream", headers=_HEADERS)


@router.get("/events")
async def overview_events(
    request: Request,
    _: ApiUser,
    settings: SettingsDep,
    p: Annotated[list[str], Query(max_length=_MAX_OVERVIEW)],
) -> Response:
    """Live events of the listed projects (no resume: the overview reloads when it reconnects)."""
    ids = list(dict.fromkeys(p))
    if not ids or len(ids) > _MAX_OVERVIEW or not all(_PROJECT.match(i) for i in ids):
        raise BadRequest(f"Name 1 to {_MAX_OVERVIEW} project ids with p=<id>.")
    hub = _hub(request)
    if (busy := _busy(hub)) is not None:
        return busy
    chunks = overview_stream(hub, ids, _limits(settings))
    return StreamingResponse(_guarded(chunks), media_type="text/event-stream", headers=_HEADERS)


def _valid(value: str) -> bool:
    return re.match(_STREAM_ID, value) is not None
