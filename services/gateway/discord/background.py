"""What the leader runs next to the bot: the notifier and the approval deadline watcher.

Both are tasks of the term that started them; ``stop`` cancels them and hands the notifier's
project claims over at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from services.gateway.deadlines import DeadlineWatcher, Enqueue
from services.gateway.discord.notifier import Notifier, NotifierConfig
from shared.domain.deadlines import DeadlinePolicy
from shared.state.rate_bucket import BucketPolicy, RestBucket

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from services.gateway.discord.rest import DiscordRest
    from services.gateway.term import Term
    from shared.platform.settings import DiscordSettings
    from shared.state.store import Store

__all__ = ["Background", "deadline_policy", "rest_bucket"]


def rest_bucket(redis: Redis, discord: DiscordSettings) -> RestBucket:
    return RestBucket(redis, BucketPolicy(discord.rest_rate_per_s, discord.rest_burst))


def deadline_policy(discord: DiscordSettings) -> DeadlinePolicy:
    return DeadlinePolicy(
        default_s=discord.approval_deadline_s,
        reminders=tuple(discord.approval_reminders),
        approval_expiry=discord.approval_expiry,
        blocked_expiry=discord.blocked_expiry,
    )


class Background:
    def __init__(self, notifier: Notifier, watcher: DeadlineWatcher) -> None:
        self._notifier = notifier
        self._watcher = watcher
        self._tasks: list[asyncio.Task[None]] = []

    @classmethod
    def build(
        cls, discord: DiscordSettings, store: Store, rest: DiscordRest, enqueue: Enqueue, owner: str
    ) -> Background:
        config = NotifierConfig(
            poll_s=discord.notify_poll_s,
            error_channel_id=discord.error_channel_id,
            public_api_url=discord.public_api_url,
        )
        policy = deadline_policy(discord)
        watcher = DeadlineWatcher(
            store, policy, enqueue, owner=owner, sweep_s=discord.deadline_sweep_s
        )
        return cls(Notifier(store, rest, owner, config), watcher)

    def start(self, term: Term) -> None:
        self._tasks = [
            asyncio.create_task(self._notifier.run(term), name="discord-notifier"),
            asyncio.create_task(self._watcher.run(term), name="approval-deadlines"),
        ]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        with contextlib.suppress(RedisError):
            await self._notifier.release()
