"""The per-replica timeline hub against the real engine: one pump per project however many
streams watch it, every entry to every stream, a slow stream ended rather than left behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from services.api.board.hub import HubFull, TimelineHub
from shared.platform.redis import create_redis
from shared.state import timeline
from shared.state.timeline import TimelineEvent

pytestmark = pytest.mark.integration


@pytest.fixture
async def blocking(redis_url: str, redis: Redis) -> AsyncIterator[Redis]:
    client = create_redis(redis_url, "awf-test-hub", socket_timeout=None)
    yield client
    await client.aclose()


async def publish(redis: Redis, project_id: str, n: int) -> list[str]:
    event = TimelineEvent(actor="t", command="tool")
    return [await timeline.publish(redis, project_id, event) for _ in range(n)]


async def test_streams_share_one_pump_and_each_gets_every_entry(
    redis: Redis, blocking: Redis
) -> None:
    hub = TimelineHub(blocking, max_streams=10, block_ms=200)
    async with hub.subscribe(["p1"]) as one, hub.subscribe(["p1", "p2"]) as two:
        assert hub.streams == 2
        assert set(hub._topics) == {"p1", "p2"}
        sent = await publish(redis, "p1", 3) + await publish(redis, "p2", 1)
        got_one = [(await asyncio.wait_for(one.queue.get(), 5)) for _ in range(3)]
        got_two = [(await asyncio.wait_for(two.queue.get(), 5)) for _ in range(4)]
    assert [e[1] for e in got_one if e] == sent[:3]
    assert sorted(e[1] for e in got_two if e) == sorted(sent)
    assert hub.streams == 0
    assert hub._topics == {}  # the pumps stopped with their last stream
    await hub.aclose()


async def test_a_stream_that_falls_behind_is_ended(redis: Redis, blocking: Redis) -> None:
    hub = TimelineHub(blocking, max_streams=10, queue_size=2, block_ms=200)
    async with hub.subscribe(["slow"]) as sub:
        await publish(redis, "slow", 5)
        async with asyncio.timeout(5):
            while not sub.closed:
                await asyncio.sleep(0.01)
        assert sub.queue.get_nowait() is None  # only the end marker is left
    await hub.aclose()


async def test_the_hub_refuses_streams_past_its_limit_and_ends_them_on_close(
    blocking: Redis,
) -> None:
    hub = TimelineHub(blocking, max_streams=1, block_ms=200)
    async with hub.subscribe(["full"]) as sub:
        with pytest.raises(HubFull):
            async with hub.subscribe(["full"]):
                pass
        await hub.aclose()
        assert await asyncio.wait_for(sub.queue.get(), 1) is None
