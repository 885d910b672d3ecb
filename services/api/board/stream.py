"""Server-Sent Events from project timelines: what the board's pages listen to.

A project stream names each event with its Redis stream entry id (`id:`), so a browser that
reconnects sends it back as `Last-Event-ID` and gets exactly what followed: no gap, no
duplicate, from any replica. Idle streams get a comment every `api.board_heartbeat_s`; each
stream ends after `api.board_stream_max_s` (the browser resumes at once) and a client too far
behind gets a `reset` event (reload the page) instead of an unbounded replay.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from services.api.board.hub import Entry, Subscription, TimelineHub, stream_id
from shared.state import keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["StreamLimits", "event_frame", "overview_stream", "project_stream"]

RETRY_MS = 1_000
CATCH_UP_MAX = 5_000
_PAGE = 200
_PAYLOAD_MAX = 4_000
_ID_FIELDS = ("story_id", "cycle_id", "approval_id", "sprint_id", "phase", "status", "tool")


@dataclass(frozen=True)
class StreamLimits:
    heartbeat_s: float
    max_s: float


def _payload(raw: str) -> dict[str, Any]:
    """The event's payload, or only its ids when it is large (a tool call's arguments)."""
    payload: dict[str, Any] = json.loads(raw or "{}")
    if len(raw) <= _PAYLOAD_MAX:
        return payload
    return {k: payload[k] for k in _ID_FIELDS if k in payload} | {"truncated": True}


def event_frame(project_id: str, entry_id: str, fields: dict[str, str], *, with_id: bool) -> str:
    data = {
        "id": entry_id,
        "project_id": project_id,
        "ts": fields.get("ts"),
        "actor": fields.get("actor"),
        "command": fields.get("command"),
        "from": fields.get("from") or None,
        "to": fields.get("to") or None,
        "payload": _payload(fields.get("payload", "")),
    }
    head = f"id: {entry_id}\n" if with_id else ""
    return f"{head}event: timeline\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def latest_id(redis: Redis, project_id: str) -> str:
    newest = await redis.xrevrange(keys.timeline(project_id), count=1)
    return str(newest[0][0]) if newest else "0-0"


class _Position:
    def __init__(self, last: str) -> None:
        self.last = last
        self.reset = False

    def is_new(self, entry_id: str) -> bool:
        return stream_id(entry_id) > stream_id(self.last)


async def project_stream(
    hub: TimelineHub, redis: Redis, project_id: str, after: str | None, limits: StreamLimits
) -> AsyncIterator[str]:
    """Everything after `after` (from now when None), then live events until the time limit."""
    async with hub.subscribe([project_id]) as sub:
        yield f"retry: {RETRY_MS}\n\n"
        position = _Position(after or await latest_id(redis, project_id))
        async for chunk in _catch_up(redis, project_id, position):
            yield chunk
        if position.reset:
            return
        async for entry in _live(sub, limits):
            if entry[1] == "":
                yield ": keep-alive\n\n"
            elif position.is_new(entry[1]):
                position.last = entry[1]
                yield event_frame(*entry, with_id=True)


async def overview_stream(
    hub: TimelineHub, project_ids: list[str], limits: StreamLimits
) -> AsyncIterator[str]:
    """Live events of several projects, without ids: the overview reloads itself on (re)open."""
    async with hub.subscribe(project_ids) as sub:
        yield f"retry: {RETRY_MS}\n\n"
        async for entry in _live(sub, limits):
            if entry[1] == "":
                yield ": keep-alive\n\n"
            else:
                yield event_frame(*entry, with_id=False)


async def _catch_up(redis: Redis, project_id: str, position: _Position) -> AsyncIterator[str]:
    key, sent = keys.timeline(project_id), 0
    while True:
        page = await redis.xrange(key, min=f"({position.last}", max="+", count=_PAGE)
        if sent + len(page) > CATCH_UP_MAX:
            position.reset = True
            yield f"event: reset\ndata: {json.dumps({'reason': 'too far behind'})}\n\n"
            return
        for entry_id, fields in page:
            position.last = str(entry_id)
            yield event_frame(project_id, position.last, fields, with_id=True)
        sent += len(page)
        if len(page) < _PAGE:
            return


async def _live(sub: Subscription, limits: StreamLimits) -> AsyncIterator[Entry]:
    """Entries from the hub; an entry with an empty id stands for a heartbeat. Ends at the time
    limit, or when the hub ends the subscription."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limits.max_s
    while (remaining := deadline - loop.time()) > 0:
        try:
            # not wait_for: on 3.11 it can drop a cancellation, or an entry (CPython gh-86296)
            async with asyncio.timeout(min(limits.heartbeat_s, remaining)):
                entry = await sub.queue.get()
        except TimeoutError:
            if deadline - loop.time() > 0:
                yield ("", "", {})
            continue
        if entry is None:
            return
        yield entry
