"""The day's IDENTIFY counter matches what Discord counts, within a term too: a session Discord
invalidates makes hikari IDENTIFY again on its own (counted); a RESUME costs nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis

from shared.state import keys
from tests.integration.discord_fixtures import DiscordStack, discord_stack

pytestmark = pytest.mark.integration


@pytest.fixture
async def stack(
    redis: Redis, redis_url: str, _empty_config_file: Path
) -> AsyncIterator[DiscordStack]:
    async with discord_stack(_empty_config_file, redis_url) as running:
        yield running


async def counted_today(redis: Redis) -> int:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    return int(await redis.get(keys.gateway_identifies(day)) or 0)


async def counted_eventually(redis: Redis, expected: int, timeout_s: float = 5.0) -> int:
    """The counter once it reached `expected` (it is counted on READY, just after), or as is."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout_s):
            while await counted_today(redis) < expected:
                await asyncio.sleep(0.02)
    return await counted_today(redis)


async def test_a_resume_is_free_and_a_new_session_is_counted(
    stack: DiscordStack, redis: Redis
) -> None:
    fake = stack.fake
    assert fake.stats.identifies == await counted_today(redis) == 1

    await fake.disconnect(4000)  # resumable: hikari RESUMEs
    await fake.wait_for_stat("resumes", 1, timeout_s=10)
    await fake.wait_until_ready()
    assert fake.stats.identifies == await counted_today(redis) == 1

    await fake.invalid_session(resumable=False)  # hikari IDENTIFYs anew, by itself
    await fake.wait_for_stat("identifies", 2, timeout_s=10)
    await fake.wait_until_ready()
    assert await counted_eventually(redis, 2) == fake.stats.identifies == 2
    assert fake.stats.resumes == 1
