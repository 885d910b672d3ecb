"""The leader's real hikari shard reports its Discord connection to Redis, and `awf health`
judges the leader by it: ready after READY, failing once Discord closes the session for good."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from services.cli.health_checks import Check, Status, check_discord
from services.gateway.term import Term
from services.healthcheck import gateway_client_name
from shared.state import keys
from shared.state.lease import Lease
from tests.integration.discord_fixtures import discord_stack

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

OWNER = "gateway-0:99:f00d"


@pytest.fixture(name="sync_redis")
def sync_redis_fixture(redis: Redis, redis_url: str) -> Iterator[SyncRedis]:
    client = SyncRedis.from_url(redis_url, decode_responses=True, socket_timeout=3)
    yield client
    client.close()


@pytest.fixture(name="empty_config")
def empty_config_fixture(_empty_config_file: Path) -> Path:
    return _empty_config_file


async def until(probe: Callable[[], Check], wanted: Status, timeout_s: float = 10.0) -> Check:
    deadline = time.monotonic() + timeout_s
    while (check := probe()).status is not wanted and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return check


async def until_changes(redis: SyncRedis, count: int, timeout_s: float = 10.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while len(seen := changes(redis)) < count and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return seen


def changes(redis: SyncRedis) -> list[str]:
    entries = cast("list[tuple[str, dict[str, str]]]", redis.xrange(keys.GATEWAY_DISCORD_LOG))
    return [fields["state"] for _, fields in entries]


async def test_health_follows_the_leaders_shard_from_ready_to_closed_by_discord(
    redis: Redis, redis_url: str, empty_config: Path, sync_redis: SyncRedis
) -> None:
    grant = await Lease(redis, keys.GATEWAY_LEASE, 60_000).acquire(OWNER)
    assert grant is not None
    named = SyncRedis.from_url(redis_url, client_name=gateway_client_name(OWNER))
    named.ping()  # the pod's own connection, as the gateway process names it
    try:
        term = Term(grant, time.monotonic() + 3600)
        async with discord_stack(empty_config, redis_url, term=term) as stack:
            ready = await until(lambda: check_discord(sync_redis), Status.OK)
            assert ready.data["discord"] == "ready", ready.detail
            await stack.fake.disconnect(4000, "Unknown error.")  # hikari reconnects and resumes
            await until_changes(sync_redis, 4)
            back = await until(lambda: check_discord(sync_redis), Status.OK)
            assert back.data["discord"] == "ready", back.detail
            await stack.duty.stop()  # a leader leaving says so
            left = check_discord(sync_redis)
            assert left.status is Status.FAIL
            assert left.detail.startswith(f"leader {OWNER}: Discord disconnected for ")
    finally:
        named.close()
    settled = [c for c in changes(sync_redis) if c != "connected"]  # may come before READY
    assert settled == ["connecting", "ready", "disconnected", "ready", "disconnected"]
    link = cast("dict[str, str]", sync_redis.hgetall(keys.GATEWAY_DISCORD))
    assert (link["owner"], link["token"], link["state"]) == (
        OWNER,
        str(grant.token),
        "disconnected",
    )
