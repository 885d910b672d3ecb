"""A plain Server-Sent Events reader over httpx, for the board's stream tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["SseEvent", "read_events"]


@dataclass
class SseEvent:
    event: str = "message"
    id: str | None = None
    data: str = ""
    comments: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.data)


def parse(lines: Iterator[str]) -> Iterator[SseEvent]:
    """Events as the EventSource spec splits them; comment-only blocks come as `comment`."""
    current = SseEvent()
    for line in lines:
        if line == "":
            if current.data or current.id or current.event != "message":
                yield current
            elif current.comments:
                yield SseEvent(event="comment", comments=current.comments)
            current = SseEvent()
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "":
            current.comments.append(value)
        elif name == "id":
            current.id = value
        elif name == "event":
            current.event = value
        elif name == "data":
            current.data = f"{current.data}\n{value}" if current.data else value


def read_events(
    client: httpx.Client, url: str, *, until: int, headers: dict[str, str] | None = None
) -> tuple[list[SseEvent], int]:
    """Open the stream, read blocks until `until` events of kind `timeline` came (or the server
    ended it), close it; the events and how many keep-alive comments were seen."""
    events: list[SseEvent] = []
    comments = 0
    with client.stream("GET", url, headers=headers or {}) as response:
        response.raise_for_status()
        assert response.headers["content-type"].startswith("text/event-stream")
        for event in parse(response.iter_lines()):
            if event.event == "comment":
                comments += 1
            elif event.event == "timeline":
                events.append(event)
            if len(events) >= until:
                break
    return events, comments
