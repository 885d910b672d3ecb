"""hikari's own REST calls (GET /gateway/bot at every start) pass the cluster-wide Redis bucket:
they take a token, wait out a parking, and a global 429 Discord gives them parks every pod.

The commands are marked as synced beforehand, so the duty's only startup call is hikari's."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.gateway.discord.duty import DiscordDuty
from services.gateway.discord.wiring import default_catalog
from shared.fakes.discord import GLOBAL, FakeDiscord, routes
from shared.state import keys
from shared.state.rate_bucket import GLOBAL_SCOPE, BucketPolicy, RestBucket
from tests.integration.discord_fixtures import discord_settings, long_term

pytestmark = pytest.mark.integration

BURST = 20
SLOW_REFILL_PER_S = 0.01  # one token per 100 s: what was taken stays visible


@pytest.fixture
async def fake(redis: Redis) -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as discord:
        digest_key = keys.discord_commands_digest(f"{discord.app_id}:global")
        await redis.set(digest_key, default_catalog().digest)
        yield discord


@pytest.fixture
def duty(redis: Redis, redis_url: str, _empty_config_file: Path, fake: FakeDiscord) -> DiscordDuty:
    limits = {"rest_rate_per_s": SLOW_REFILL_PER_S, "rest_burst": BURST}
    return DiscordDuty(discord_settings(_empty_config_file, redis_url, fake, **limits), redis)


async def start_and_stop(duty: DiscordDuty) -> None:
    await duty.start(long_term())
    await duty.stop()


async def test_the_startup_call_hikari_makes_takes_a_token(
    redis: Redis, fake: FakeDiscord, duty: DiscordDuty
) -> None:
    await start_and_stop(duty)
    assert [call.route for call in fake.stats.rest_log] == [routes.GATEWAY_BOT]
    tokens = float(await redis.hget(keys.DISCORD_REST_BUCKET, "tokens"))  # type: ignore[misc]
    assert BURST - tokens == pytest.approx(1, abs=0.1)


async def test_a_parked_bucket_holds_hikaris_startup_call(
    redis: Redis, fake: FakeDiscord, duty: DiscordDuty
) -> None:
    await RestBucket(redis).park(GLOBAL_SCOPE, 0.5)
    parked_at = time.monotonic()
    await start_and_stop(duty)
    [call] = fake.stats.calls(routes.GATEWAY_BOT)
    assert call.at - parked_at >= 0.45  # sent once the parking (Redis' clock) had ended


async def test_a_global_429_to_hikari_parks_every_pod(
    redis: Redis, fake: FakeDiscord, duty: DiscordDuty
) -> None:
    fake.rate_limit(GLOBAL, count=1, retry_after=1.0)
    starting = asyncio.create_task(duty.start(long_term()))
    park = keys.discord_rest_park(GLOBAL_SCOPE)
    async with asyncio.timeout(5):
        while await redis.pttl(park) <= 0:
            await asyncio.sleep(0.01)
    another_pod = RestBucket(redis, BucketPolicy(rate_per_s=30, burst=5))
    assert 0 < await another_pod.take("any route") <= 1.0
    await starting
    await duty.stop()
    assert [call.status for call in fake.stats.calls(routes.GATEWAY_BOT)] == [429, 200]
    assert fake.stats.early_retries == 0
