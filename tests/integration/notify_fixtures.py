"""Helpers of the notifier tests: a project bound to the fake's channel, timeline events the
workers would write, a notifier on a real httpx client, and reading threads back in order."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from services.gateway.discord.notifier import Notifier, NotifierConfig
from services.gateway.discord.rest import DiscordRest
from shared.domain.models import ScrumState
from shared.fakes.discord import FakeDiscord
from shared.state import keys, timeline
from shared.state.rate_bucket import BucketPolicy, RestBucket
from shared.state.store import Store
from shared.state.tail_cursor import TailCursor
from shared.state.timeline import TimelineEvent
from tests.factories import make_project_in_state, run, sprint_story_ids

__all__ = [
    "bound_sprint",
    "drain",
    "notifier_on",
    "phase_events",
    "thread_contents",
]

DRAIN_S = 20.0


async def bound_sprint(store: Store, fake: FakeDiscord) -> tuple[str, list[str]]:
    """A project with a planned sprint of two stories, bound to the fake's channel, started."""
    pid = await make_project_in_state(store, ScrumState.SPRINT_PLANNED)
    await run(store, "project bind_channel", {"project": pid, "channel_id": fake.channel_id})
    await run(store, "sprint start", project_id=pid)
    return pid, await sprint_story_ids(store, pid)


async def phase_events(store: Store, pid: str, story_id: str, tag: str, tools: int = 3) -> None:
    """What a worker writes for one story: a refused attempt and a passed one, tool calls
    between. ``tag`` goes into the gate reasons so a test can tell the messages apart."""
    for attempt, verdict in ((1, "refused"), (2, "passed")):
        base = {"story_id": story_id, "cycle_id": f"cycle-{story_id}", "phase": "test_red"}
        await _publish(store, pid, "phase started", {**base, "attempt": attempt})
        for n in range(tools):
            await _publish(store, pid, "tool", {"tool": "read_file", "n": n, **base})
        result = {**base, "attempt": attempt, "gate": f"{tag} gate {attempt}", "passed": 0}
        result |= {"failed": 2, "commit": "abc1234def"}
        if verdict == "refused":
            result["reason"] = f"{tag} failed for an import error"
        await _publish(store, pid, f"phase {verdict}", result)


async def _publish(store: Store, pid: str, command: str, payload: dict[str, Any]) -> None:
    event = TimelineEvent(actor="worker", command=command, payload=payload)
    await timeline.publish(store.redis, pid, event)


@asynccontextmanager
async def notifier_on(
    store: Store,
    fake: FakeDiscord,
    owner: str,
    policy: BucketPolicy | None = None,
    error_channel_id: str | None = None,
) -> AsyncIterator[Notifier]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        bucket = RestBucket(store.redis, policy or BucketPolicy(rate_per_s=30, burst=5))
        rest = DiscordRest(client, fake.rest_url, fake.token, bucket=bucket)
        config = NotifierConfig(
            poll_s=0.2,
            retry_s=0.1,
            public_api_url="http://api.test",
            error_channel_id=error_channel_id,
        )
        notifier = Notifier(store, rest, owner, config)
        try:
            yield notifier
        finally:
            await notifier.release()


async def drain(notifier: Notifier, store: Store, pid: str) -> None:
    """Pump until the project's cursor reaches its newest event."""
    newest = (await store.redis.xrevrange(keys.timeline(pid), count=1))[0][0]
    cursor = TailCursor(store.redis, pid)
    deadline = time.monotonic() + DRAIN_S
    while (await cursor.load()).last != newest:
        assert time.monotonic() < deadline, "the notifier did not catch up"
        await notifier.pump()
        await asyncio.sleep(0)


def thread_contents(fake: FakeDiscord) -> dict[str, list[str]]:
    """Each story thread's messages (oldest first), by thread name."""
    return {t["name"]: [m["content"] for m in fake.messages(t["id"])] for t in fake.threads()}
