"""What the timeline says about each story: when it started, when it was done, how often
its gates refused and how often it was blocked. Pure: folds timeline-like events, no I/O.

- An event's time is its Redis stream id (`<ms>-<seq>`: one server clock, monotonic per
  stream); the producer's `ts` is used only when the id is not a stream id. Naive is UTC.
- Events may come in any order: a story starts at its earliest start event and is done at its
  latest done event. A story whose done precedes its start has no cycle time (ignored).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from shared.domain.scrum import SystemEvent

__all__ = [
    "BLOCKED",
    "DONE",
    "REFUSED",
    "STARTED",
    "EventLike",
    "StoryFlow",
    "as_utc",
    "event_time",
    "story_flows",
]

# Timeline commands, as written by shared.workflow.cycles and shared.workflow.system.
STARTED = "tdd start"
REFUSED = "phase refused"
BLOCKED = SystemEvent.TASK_BLOCKED.value
DONE = frozenset({"story_done", SystemEvent.SPRINT_COMPLETED.value})
_TRACKED = frozenset({STARTED, REFUSED, BLOCKED, *DONE})
_STREAM_ID = re.compile(r"^(\d+)-\d+$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class EventLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def ts(self) -> datetime: ...
    @property
    def command(self) -> str: ...
    @property
    def payload(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class StoryFlow:
    """What the timeline says about one story."""

    story_id: str
    started_at: datetime | None = None
    done_at: datetime | None = None
    refusals: int = 0
    blocks: int = 0

    @property
    def cycle_time(self) -> timedelta | None:
        if self.started_at is None or self.done_at is None or self.done_at < self.started_at:
            return None
        return self.done_at - self.started_at


def as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def event_time(event: EventLike) -> datetime:
    match = _STREAM_ID.match(event.id)
    if match:
        return _EPOCH + timedelta(milliseconds=int(match.group(1)))
    return as_utc(event.ts)


def story_flows(events: Iterable[EventLike]) -> dict[str, StoryFlow]:
    """Fold the timeline into one `StoryFlow` per story it mentions; order does not matter."""
    flows: dict[str, StoryFlow] = {}
    for event in events:
        story_id = event.payload.get("story_id") if event.command in _TRACKED else None
        if isinstance(story_id, str):
            flows[story_id] = _fold(flows.get(story_id) or StoryFlow(story_id), event)
    return flows


def _fold(flow: StoryFlow, event: EventLike) -> StoryFlow:
    at = event_time(event)
    if event.command == STARTED:
        return replace(flow, started_at=min(at, flow.started_at or at))
    if event.command in DONE:
        return replace(flow, done_at=max(at, flow.done_at or at))
    if event.command == REFUSED:
        return replace(flow, refusals=flow.refusals + 1)
    return replace(flow, blocks=flow.blocks + 1)
