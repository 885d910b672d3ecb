"""Story threads: each story gets one public thread in its project's channel, made on the
story's first message; its id is kept in Redis (with the channel, so a rebind starts anew)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.gateway.discord import wire
from services.gateway.discord.rest import DiscordRestError
from shared.domain.models import Story
from shared.state import keys

if TYPE_CHECKING:
    from services.gateway.discord.rest import DiscordRest
    from services.gateway.discord.wire import Json
    from shared.state.store import Store

__all__ = ["StoryThreads"]

_THREAD_ARCHIVED = 50083


class StoryThreads:
    def __init__(self, store: Store, rest: DiscordRest) -> None:
        self._store = store
        self._rest = rest

    async def thread_for(self, project_id: str, channel_id: str, story_id: str) -> str:
        """The story's thread under ``channel_id``, started now if it has none there yet."""
        key = keys.discord_threads(project_id)
        known = await self._redis_get(key, story_id)
        if known is not None and known[0] == channel_id:
            return known[1]
        thread = await self._rest.start_thread(channel_id, await self._name(project_id, story_id))
        value = f"{channel_id}:{thread['id']}"
        if known is None and not await self._store.redis.hsetnx(key, story_id, value):  # type: ignore[misc]
            raced = await self._redis_get(key, story_id)  # another notifier was first: use its
            return raced[1] if raced else str(thread["id"])
        if known is not None:
            await self._store.redis.hset(key, story_id, value)  # type: ignore[misc]
        return str(thread["id"])

    async def post(self, channel_id: str, body: Json) -> None:
        """Post; a thread Discord archived (a week without messages) is reopened first."""
        try:
            await self._rest.create_message(channel_id, body)
        except DiscordRestError as exc:
            if exc.code != _THREAD_ARCHIVED:
                raise
            await self._rest.edit_channel(channel_id, {"archived": False})
            await self._rest.create_message(channel_id, body)

    async def _redis_get(self, key: str, story_id: str) -> tuple[str, str] | None:
        value: str | None = await self._store.redis.hget(key, story_id)  # type: ignore[misc]
        if not value:
            return None
        channel_id, _, thread_id = value.partition(":")
        return channel_id, thread_id

    async def _name(self, project_id: str, story_id: str) -> str:
        story = await self._store.get(Story, keys.entity(project_id, "story", story_id))
        title = story.title if story else story_id
        return wire.fit(f"{title} · {story_id}", 100)
