"""Per-replica fan-out of project timelines to the board's event streams.

One blocking XREAD per watched project per replica, however many browsers watch it, feeds a
bounded queue per stream. A stream subscribes first and then reads what it missed with XRANGE
(see `stream.py`), so together they see every entry: the hub delivers what follows its start
id (read before `subscribe` returns), the catch-up what precedes it, and stream ids drop
overlaps. A stream whose queue overflows, or whose pump failed, is ended: the browser
reconnects with Last-Event-ID and resumes from Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from shared.state import keys

__all__ = ["Entry", "HubFull", "Subscription", "TimelineHub", "stream_id"]

log = structlog.get_logger("api.board.hub")

Entry = tuple[str, str, dict[str, str]]  # project id, stream entry id, fields
_BATCH = 200


def stream_id(entry_id: str) -> tuple[int, int]:
    """`"1700000000000-3"` as a comparable pair."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


class HubFull(Exception):
    """This replica serves as many streams as it may; the client retries later."""


@dataclass(eq=False)
class Subscription:
    queue: asyncio.Queue[Entry | None]
    closed: bool = False

    def offer(self, entry: Entry | None) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait(entry)
        except asyncio.QueueFull:
            self.close()

    def close(self) -> None:
        """End the stream: drop what is queued and leave one end marker."""
        if self.closed:
            return
        self.closed = True
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


@dataclass(eq=False)
class _Topic:
    subscribers: set[Subscription] = field(default_factory=set)
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


class TimelineHub:
    def __init__(
        self, redis: Redis, *, max_streams: int, queue_size: int = 1_000, block_ms: int = 5_000
    ) -> None:
        self._redis = redis  # a client without socket timeout: XREAD BLOCK waits in it
        self._max_streams, self._queue_size, self._block_ms = max_streams, queue_size, block_ms
        self._topics: dict[str, _Topic] = {}
        self._streams = 0
        self._draining = False

    @property
    def streams(self) -> int:
        return self._streams

    @property
    def max_streams(self) -> int:
        return self._max_streams

    @contextlib.asynccontextmanager
    async def subscribe(self, project_ids: list[str]) -> AsyncIterator[Subscription]:
        if self._draining:
            raise HubFull("this replica is shutting down")
        if self._streams >= self._max_streams:
            raise HubFull(f"this replica already serves {self._streams} board streams")
        sub = Subscription(asyncio.Queue(self._queue_size + 1))
        self._streams += 1
        try:
            for pid in project_ids:
                await self._join(pid, sub)
            yield sub
        finally:
            self._streams -= 1
            for pid in project_ids:
                await self._leave(pid, sub)

    def end_streams(self) -> None:
        """The replica is draining: end every stream now (browsers reconnect with their last
        event id, to another replica) and open no new one; open streams would otherwise hold
        the drain until its timeout."""
        self._draining = True
        for topic in self._topics.values():
            for sub in topic.subscribers:
                sub.close()

    async def aclose(self) -> None:
        for pid in list(self._topics):
            topic = self._topics.pop(pid)
            for sub in topic.subscribers:
                sub.close()
            await _cancel(topic.task)

    async def _join(self, pid: str, sub: Subscription) -> None:
        topic = self._topics.get(pid)
        if topic is None:
            topic = self._topics[pid] = _Topic()
            topic.subscribers.add(sub)
            try:
                start = await self._latest(pid)
            except BaseException:
                self._drop(pid, topic)
                raise
            topic.task = asyncio.create_task(self._pump(pid, topic, start))
            topic.ready.set()
        else:
            topic.subscribers.add(sub)
        await topic.ready.wait()

    async def _leave(self, pid: str, sub: Subscription) -> None:
        topic = self._topics.get(pid)
        if topic is None:
            return
        topic.subscribers.discard(sub)
        if not topic.subscribers and self._topics.get(pid) is topic:
            del self._topics[pid]
            await _cancel(topic.task)

    async def _latest(self, pid: str) -> str:
        newest = await self._redis.xrevrange(keys.timeline(pid), count=1)
        return str(newest[0][0]) if newest else "0-0"

    async def _pump(self, pid: str, topic: _Topic, start: str) -> None:
        last, key = start, keys.timeline(pid)
        try:
            while True:
                reply = await self._redis.xread({key: last}, count=_BATCH, block=self._block_ms)
                for _, entries in reply or []:
                    for entry_id, fields in entries:
                        last = str(entry_id)
                        for sub in list(topic.subscribers):
                            sub.offer((pid, last, fields))
        except (RedisError, OSError) as exc:
            log.warning("board_hub_pump_failed", project_id=pid, error=repr(exc))
            self._drop(pid, topic)

    def _drop(self, pid: str, topic: _Topic) -> None:
        """Forget a failed topic and end its streams (they resume on reconnect)."""
        if self._topics.get(pid) is topic:
            del self._topics[pid]
        for sub in topic.subscribers:
            sub.close()
        topic.ready.set()


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is None or task.done():
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
