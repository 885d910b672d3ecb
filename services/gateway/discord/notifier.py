"""The leader's notifier: tails the timeline of every project bound to a channel and posts it.

One XREAD (blocking up to ``poll_s``) covers every bound project, each from its stored cursor.
A project's events are posted one by one, in order, by whoever holds its claim; the cursor
moves after each message, so a new leader resumes where the old one stopped. Messages that
Discord will never take (a deleted channel, missing access) go to ``discord.error_channel_id``
and are skipped; rate limits and Discord's own trouble pause the project and retry.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import structlog
from redis.exceptions import RedisError

from services.gateway.discord.notice_context import (
    count_tool_call,
    forget_tool_calls,
    notice_context,
)
from services.gateway.discord.notices import Notice, notices_for
from services.gateway.discord.rest import DiscordRestError
from services.gateway.discord.threads import StoryThreads
from shared.domain.models import Project
from shared.state import keys
from shared.state.tail_cursor import CursorState, TailCursor
from shared.state.timeline import TimelineEvent

if TYPE_CHECKING:
    from services.gateway.discord.rest import DiscordRest
    from services.gateway.term import Term
    from shared.state.store import Store

__all__ = ["Notifier", "NotifierConfig"]

log = structlog.get_logger("gateway.discord.notifier")


@dataclass(frozen=True)
class NotifierConfig:
    poll_s: float = 2.0
    batch: int = 50
    claim_ttl_ms: int = 10_000
    retry_s: float = 1.0  # a project whose post failed waits this long before the next try
    error_channel_id: str | None = None
    public_api_url: str | None = None


class Notifier:
    def __init__(self, store: Store, rest: DiscordRest, owner: str, config: NotifierConfig) -> None:
        self._store = store
        self._rest = rest
        self._owner = owner
        self._config = config
        self._threads = StoryThreads(store, rest)
        self._resting: dict[str, float] = {}  # project id -> monotonic time of the next try
        self._claimed: set[str] = set()
        self._term: Term | None = None

    async def run(self, term: Term) -> None:
        """Pump until cancelled; a deposed leader (its term lapsed) posts nothing."""
        self._term = term
        while True:
            if not term.holds():
                await asyncio.sleep(self._config.retry_s)
                continue
            try:
                await self.pump()
            except RedisError as exc:
                log.warning("notifier_redis_failed", error=repr(exc))
                await asyncio.sleep(self._config.retry_s)
            except Exception:  # a bug must not silence every channel until the next leader
                log.exception("notifier_failed")
                await asyncio.sleep(self._config.retry_s)

    async def release(self) -> None:
        """Give up the claims held, so the next leader posts at once (graceful hand-over)."""
        claimed, self._claimed = self._claimed, set()
        for project_id in claimed:
            await TailCursor(self._store.redis, project_id).release(self._owner)

    async def pump(self) -> int:
        """One round: wait for events of any bound project and post them. Events handled."""
        cursors = await self._cursors()
        if not cursors:
            await asyncio.sleep(self._config.poll_s)
            return 0
        streams: dict[Any, Any] = {keys.timeline(p): state.last for p, state in cursors.items()}
        block_ms = max(int(self._config.poll_s * 1000), 1)
        found = await self._store.redis.xread(streams, count=self._config.batch, block=block_ms)
        by_stream = found.items() if isinstance(found, dict) else found
        project_of = {keys.timeline(pid): pid for pid in cursors}
        drains = [
            self._drain(project_of[stream], cursors[project_of[stream]], entries)
            for stream, entries in by_stream
        ]
        return sum(await asyncio.gather(*drains))

    async def _cursors(self) -> dict[str, CursorState]:
        bound: set[str] = await self._store.redis.smembers(keys.DISCORD_BOUND_PROJECTS)  # type: ignore[misc]
        now = time.monotonic()
        ready = sorted(p for p in bound if self._resting.get(p, 0.0) <= now)
        return {p: await TailCursor(self._store.redis, p).load() for p in ready}

    async def _drain(self, project_id: str, state: CursorState, entries: list[Any]) -> int:
        cursor = TailCursor(self._store.redis, project_id)
        handled = 0
        for entry_id, fields in entries:
            if not await self._may_post(cursor, project_id):
                break
            event = TimelineEvent.from_stream(entry_id, fields)
            try:
                await self._deliver(project_id, event, cursor, state.parts_done(entry_id))
            except (DiscordRestError, httpx.HTTPError) as exc:
                log.info("notifier_paused", project_id=project_id, error=str(exc))
                self._resting[project_id] = time.monotonic() + self._config.retry_s
                break
            handled += 1
        return handled

    async def _may_post(self, cursor: TailCursor, project_id: str) -> bool:
        if self._term is not None and not self._term.holds():
            return False
        if not await cursor.claim(self._owner, self._config.claim_ttl_ms):
            self._resting[project_id] = time.monotonic() + self._config.retry_s
            return False
        self._claimed.add(project_id)
        return True

    async def _deliver(
        self, project_id: str, event: TimelineEvent, cursor: TailCursor, done: int
    ) -> None:
        if event.command == "tool":
            await count_tool_call(self._store, project_id, event)
            await cursor.event_done(event.id)
            return
        project = await self._store.get(Project, keys.project(project_id))
        channel_id = project.discord_channel_id if project else None
        if channel_id:
            url = self._config.public_api_url
            ctx = await notice_context(self._store, project_id, event, url)
            notices = notices_for(event, ctx)
            for index in range(done, len(notices)):
                await self._post(project_id, channel_id, notices[index], event)
                await cursor.part_done(event.id, index + 1)
        await forget_tool_calls(self._store, project_id, event)
        await cursor.event_done(event.id)

    async def _post(self, project_id: str, channel_id: str, notice: Notice, event: Any) -> None:
        try:
            target = channel_id
            if notice.story_id:
                target = await self._threads.thread_for(project_id, channel_id, notice.story_id)
            await self._threads.post(target, notice.body)
        except DiscordRestError as exc:
            if exc.retryable:
                raise
            await self._report(project_id, event, exc)

    async def _report(self, project_id: str, event: TimelineEvent, exc: DiscordRestError) -> None:
        log.warning("notice_dropped", project_id=project_id, event_id=event.id, error=str(exc))
        if not self._config.error_channel_id:
            return
        text = f"Could not post {event.command!r} ({event.id}) of project {project_id}: {exc}"
        body = {"content": text[:2000], "allowed_mentions": {"parse": []}}
        try:
            await self._rest.create_message(self._config.error_channel_id, body)
        except DiscordRestError as failed:
            log.warning("error_channel_failed", error=str(failed))
