"""The probes of `awf health` on a real Redis holding what the services write there: the gateway
lease and its holder's named connection, arq's per-pod health keys and queue."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis

from services.cli.health_checks import Status, check_discord, check_redis, check_workers
from services.healthcheck import gateway_client_name, worker_health_key
from shared.state import keys
from shared.state.lease import Lease

pytestmark = pytest.mark.integration

OWNER = "pod-0:4242:abc123"


@pytest.fixture(name="sync_redis")
def sync_redis_fixture(redis: Redis, redis_url: str) -> Iterator[SyncRedis]:
    """A client like the CLI's, on the test's (flushed) database."""
    client = SyncRedis.from_url(redis_url, decode_responses=True, socket_timeout=3)
    yield client
    client.close()


def connection(redis_url: str, name: str) -> SyncRedis:
    """A live connection named like a gateway process's."""
    client = SyncRedis.from_url(redis_url, decode_responses=True, client_name=name)
    client.ping()
    return client


async def lead(redis: Redis, owner: str = OWNER) -> int:
    grant = await Lease(redis, keys.GATEWAY_LEASE, 30_000).acquire(owner)
    assert grant is not None
    return grant.token


def test_redis_answers_a_write_and_a_read(sync_redis: SyncRedis) -> None:
    check = check_redis(sync_redis)
    assert check.status is Status.OK, check.detail
    assert check.data["version"]
    assert sync_redis.keys(keys.health_probe("*")) == []  # the probe cleans up after itself


def test_no_gateway_at_all_is_not_configured(sync_redis: SyncRedis) -> None:
    check = check_discord(sync_redis)
    assert (check.status, check.detail) == (Status.ABSENT, "not configured: no gateway is running")


async def test_a_live_leader_with_a_standby_is_ok(
    redis: Redis, redis_url: str, sync_redis: SyncRedis
) -> None:
    fence = await lead(redis)
    leader = connection(redis_url, gateway_client_name(OWNER))
    standby = connection(redis_url, gateway_client_name("pod-1:77:def456"))
    await redis.xadd(keys.GATEWAY_BEACON, {"owner": OWNER, "token": str(fence)})
    try:
        check = check_discord(sync_redis)
    finally:
        leader.close()
        standby.close()
    assert check.status is Status.OK, check.detail
    beat_age_s = check.data.pop("beat_age_s")
    assert check.data == {"leader": OWNER, "fence": fence, "pods": 2}
    assert beat_age_s >= 0
    assert f"leader {OWNER} (fence {fence}), 1 standing by; duty beat" in check.detail


async def test_a_lease_whose_holder_has_no_connection_fails(
    redis: Redis, sync_redis: SyncRedis
) -> None:
    await lead(redis)  # its process died: the lease outlives it until it expires
    check = check_discord(sync_redis)
    assert (check.status, check.detail) == (Status.FAIL, f"leader {OWNER} is not connected")


async def test_the_leaders_own_report_of_its_discord_connection_decides(
    redis: Redis, redis_url: str, sync_redis: SyncRedis
) -> None:
    fence = await lead(redis)
    leader = connection(redis_url, gateway_client_name(OWNER))
    try:
        report = {"owner": OWNER, "token": str(fence - 1), "state": "ready", "since": "0"}
        sync_redis.hset(keys.GATEWAY_DISCORD, mapping=report)  # the previous leader's
        stale = check_discord(sync_redis)
        sync_redis.hset(keys.GATEWAY_DISCORD, mapping={"token": str(fence), "state": "connected"})
        connecting = check_discord(sync_redis)
        sync_redis.hset(keys.GATEWAY_DISCORD, "state", "ready")
        ready = check_discord(sync_redis)
    finally:
        leader.close()
    assert stale.status is Status.FAIL
    assert stale.detail == f"leader {OWNER} has not reported a Discord connection yet"
    assert connecting.status is Status.FAIL
    assert connecting.detail.startswith(f"leader {OWNER}: Discord connected for ")
    assert ready.status is Status.OK, ready.detail
    assert ready.data["discord"] == "ready"
    assert "; Discord ready for " in ready.detail


def test_gateway_pods_with_no_leader_fail(redis_url: str, sync_redis: SyncRedis) -> None:
    standby = connection(redis_url, gateway_client_name("pod-1:77:def456"))
    try:
        check = check_discord(sync_redis)
    finally:
        standby.close()
    assert (check.status, check.detail) == (Status.FAIL, "1 gateway pod(s) connected, none leads")


def test_workers_are_counted_per_pod_and_waiting_jobs_reported(sync_redis: SyncRedis) -> None:
    now_ms = int(time.time() * 1000)
    sync_redis.zadd(keys.ARQ_QUEUE, {"due": now_ms - 1_000, "deferred": now_ms + 60_000})
    assert check_workers(sync_redis).detail == "none running; 1 job waiting"
    assert check_workers(sync_redis).status is Status.ABSENT

    for pod in ("worker-a", "worker-b"):  # what workers write every health_check_interval
        sync_redis.set(worker_health_key(pod), "Nov-24 03:25:46 j_complete=2 queued=2", ex=11)
    check = check_workers(sync_redis)
    assert check.status is Status.OK
    assert check.detail == "2 running (worker-a, worker-b); 1 job waiting"
