"""The per-project timeline: an append-only Redis stream of every change.

It is the audit log, the feed of the board and of notifications, and the export format.
Events are appended inside the same MULTI as the change they describe, so the log never
disagrees with the state.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from shared.domain.models import utcnow
from shared.state import keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from shared.state.store import Transaction

__all__ = ["TimelineEvent", "append", "publish", "read"]


class TimelineEvent(BaseModel):
    id: str = ""
    ts: datetime = Field(default_factory=utcnow)
    actor: str
    command: str
    from_state: str | None = None
    to_state: str | None = None
    version: int | None = None
    payload: dict[str, Any] = Field(default_factory=dict)

    def fields(self) -> dict[str, str]:
        return {
            "ts": self.ts.isoformat(),
            "actor": self.actor,
            "command": self.command,
            "from": self.from_state or "",
            "to": self.to_state or "",
            "version": "" if self.version is None else str(self.version),
            "payload": json.dumps(self.payload, separators=(",", ":"), default=str),
        }

    @classmethod
    def from_stream(cls, entry_id: str, data: dict[str, str]) -> TimelineEvent:
        return cls(
            id=entry_id,
            ts=datetime.fromisoformat(data["ts"]),
            actor=data["actor"],
            command=data["command"],
            from_state=data.get("from") or None,
            to_state=data.get("to") or None,
            version=int(data["version"]) if data.get("version") else None,
            payload=json.loads(data.get("payload") or "{}"),
        )


def append(tx: Transaction, project_id: str, event: TimelineEvent) -> None:
    """Buffer the event's XADD into `tx`, committed with the change it records."""
    fields = event.fields()
    tx.call(lambda p: p.xadd(keys.timeline(project_id), fields))  # type: ignore[arg-type]


async def publish(redis: Redis, project_id: str, event: TimelineEvent) -> str:
    """Append an event outside any transaction (tool calls, progress): append-only, no lock."""
    entry_id: str = await redis.xadd(keys.timeline(project_id), event.fields())  # type: ignore[arg-type]
    return entry_id


async def read(
    redis: Redis, project_id: str, *, after: str | None = None, limit: int = 100
) -> list[TimelineEvent]:
    """Events in order, strictly after the stream id `after` (from the start when None)."""
    start = f"({after}" if after else "-"
    entries = await redis.xrange(keys.timeline(project_id), min=start, max="+", count=limit)
    return [TimelineEvent.from_stream(eid, data) for eid, data in entries]
