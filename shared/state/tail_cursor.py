"""Where a consumer of a project's timeline stands, kept in Redis so a successor resumes there.

The cursor is written after each message is posted: ``last`` is the last event fully posted,
``part_of``/``parts`` how many messages of the next event already went out. A crash between a
post and its cursor write repeats at most that one message; nothing is skipped. A claim (SET
NX PX, renewed by its owner) lets one consumer at a time post a project's events, in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.state import keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["CursorState", "TailCursor"]

_CLAIM = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

_BIND_COMMAND = "project bind_channel"
_BIND_LOOKBACK = 500


@dataclass(frozen=True)
class CursorState:
    last: str
    part_of: str = ""
    parts: int = 0

    def parts_done(self, event_id: str) -> int:
        return self.parts if self.part_of == event_id else 0


class TailCursor:
    def __init__(self, redis: Redis, project_id: str) -> None:
        self._redis = redis
        self._key = keys.discord_cursor(project_id)
        self._lock = keys.discord_tail_lock(project_id)
        self._stream = keys.timeline(project_id)

    async def load(self) -> CursorState:
        """The stored position; a project seen for the first time starts at its latest binding."""
        stored: dict[str, str] = await self._redis.hgetall(self._key)  # type: ignore[misc]
        if "last" in stored:
            return CursorState(
                stored["last"], stored.get("part_of", ""), int(stored.get("parts", 0))
            )
        start = await self._binding_event()
        await self._redis.hsetnx(self._key, "last", start)  # type: ignore[misc]
        return await self.load()

    async def part_done(self, event_id: str, parts: int) -> None:
        await self._redis.hset(self._key, mapping={"part_of": event_id, "parts": parts})  # type: ignore[misc]

    async def event_done(self, event_id: str) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key, "last", event_id)
            pipe.hdel(self._key, "part_of", "parts")
            await pipe.execute()

    async def claim(self, owner: str, ttl_ms: int) -> bool:
        """Take (or keep) the right to post this project's events for ``ttl_ms``."""
        won = await self._redis.eval(_CLAIM, 1, self._lock, owner, str(ttl_ms))  # type: ignore[misc]
        return bool(won)

    async def release(self, owner: str) -> None:
        await self._redis.eval(_RELEASE, 1, self._lock, owner)  # type: ignore[misc]

    async def _binding_event(self) -> str:
        """The id of the newest /project bind_channel event, so only what follows it is posted
        (no flood of old history); the newest event when it is out of reach."""
        entries = await self._redis.xrevrange(self._stream, count=_BIND_LOOKBACK)
        for entry_id, fields in entries:
            if fields.get("command") == _BIND_COMMAND:
                return str(entry_id)
        return str(entries[0][0]) if entries else "0-0"
