"""The cluster-wide Discord REST bucket on real Valkey: two "pods" share one rate, and a 429's
parking holds every taker back until Discord's wait has passed."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis

from shared.state.rate_bucket import GLOBAL_SCOPE, BucketPolicy, RateLimitWait, RestBucket

pytestmark = pytest.mark.integration


def _most_in_one_second(stamps: list[float]) -> int:
    stamps = sorted(stamps)
    return max(sum(1 for t in stamps[i:] if t - start < 1.0) for i, start in enumerate(stamps))


async def test_two_pods_together_stay_within_rate_plus_burst(redis: Redis) -> None:
    policy = BucketPolicy(rate_per_s=40, burst=4)
    pods = [RestBucket(redis, policy), RestBucket(redis, policy)]
    stamps: list[float] = []

    async def caller(bucket: RestBucket, calls: int) -> None:
        for _ in range(calls):
            await bucket.acquire("route")
            stamps.append(time.monotonic())

    started = time.monotonic()
    await asyncio.gather(*(caller(pods[n % 2], 6) for n in range(12)))
    elapsed = time.monotonic() - started
    assert len(stamps) == 72
    assert _most_in_one_second(stamps) <= policy.rate_per_s + policy.burst
    assert elapsed >= (72 - policy.burst) / policy.rate_per_s - 0.1


async def test_a_global_parking_holds_every_route(redis: Redis) -> None:
    bucket = RestBucket(redis, BucketPolicy(rate_per_s=50, burst=5))
    await bucket.park(GLOBAL_SCOPE, 0.3)
    assert 0.2 < await bucket.take("any route") <= 0.3
    started = time.monotonic()
    await bucket.acquire("another route")
    assert time.monotonic() - started >= 0.25


async def test_a_route_parking_leaves_other_routes_free(redis: Redis) -> None:
    bucket = RestBucket(redis, BucketPolicy(rate_per_s=50, burst=5))
    await bucket.park("route-a", 5.0)
    assert await bucket.take("route-b") == 0
    assert await bucket.take("route-a") > 4.0


async def test_a_parking_longer_than_the_caller_waits_is_refused(redis: Redis) -> None:
    bucket = RestBucket(redis, BucketPolicy(max_wait_s=0.2))
    await bucket.park(GLOBAL_SCOPE, 60.0)
    with pytest.raises(RateLimitWait):
        await bucket.acquire("route")
