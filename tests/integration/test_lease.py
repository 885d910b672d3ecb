"""The Redis lease on a real server: one holder, owner-checked renew/release, fencing tokens."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from shared.state import keys
from shared.state.lease import Grant, Lease

if TYPE_CHECKING:
    from redis.asyncio import Redis

pytestmark = pytest.mark.integration

TTL_MS = 5_000


@pytest.fixture
def lease(redis: Redis) -> Lease:
    return Lease(redis, "test", TTL_MS)


async def test_acquire_grants_once_until_released(lease: Lease) -> None:
    grant = await lease.acquire("a")
    assert grant == Grant("a", 1)
    assert await lease.acquire("b") is None
    assert await lease.acquire("a") is None  # not re-entrant: a second term needs a release
    assert await lease.holder() == grant


async def test_acquire_sets_the_ttl(lease: Lease, redis: Redis) -> None:
    await lease.acquire("a")
    assert 0 < await redis.pttl(keys.lease("test")) <= TTL_MS


async def test_renew_by_the_owner_pushes_the_expiry(lease: Lease, redis: Redis) -> None:
    grant = await lease.acquire("a")
    assert grant is not None
    await redis.pexpire(keys.lease("test"), 100)
    assert await lease.renew(grant)
    assert await redis.pttl(keys.lease("test")) > TTL_MS - 1_000


async def test_renew_by_anyone_else_fails_and_changes_nothing(lease: Lease, redis: Redis) -> None:
    grant = await lease.acquire("a")
    assert grant is not None
    await redis.pexpire(keys.lease("test"), 2_000)
    assert not await lease.renew(Grant("b", grant.token))
    assert not await lease.renew(Grant("a", grant.token + 1))  # a's later term is not this one
    assert await redis.pttl(keys.lease("test")) <= 2_000


async def test_release_by_a_non_owner_is_refused(lease: Lease) -> None:
    grant = await lease.acquire("a")
    assert not await lease.release(Grant("b", 1))
    assert await lease.holder() == grant


async def test_release_lets_another_owner_in_under_a_higher_token(lease: Lease) -> None:
    first = await lease.acquire("a")
    assert first is not None
    assert await lease.release(first)
    assert await lease.holder() is None
    second = await lease.acquire("b")
    assert second is not None
    assert second.token > first.token
    assert not await lease.renew(first)
    assert not await lease.release(first)


async def test_tokens_grow_with_every_acquisition(lease: Lease) -> None:
    tokens = []
    for n in range(5):
        grant = await lease.acquire(f"owner-{n}")
        assert grant is not None
        tokens.append(grant.token)
        await lease.release(grant)
    assert tokens == sorted(set(tokens))


async def test_expiry_lets_another_take_it_and_deposes_the_first(redis: Redis) -> None:
    lease = Lease(redis, "test", 100)
    first = await lease.acquire("a")
    assert first is not None
    await asyncio.sleep(0.15)
    second = await lease.acquire("b")
    assert second is not None
    assert not await lease.renew(first)
    assert not await lease.is_current(first.token)
    assert await lease.is_current(second.token)


async def test_is_current_is_false_when_nobody_holds_it(lease: Lease) -> None:
    grant = await lease.acquire("a")
    assert grant is not None
    assert await lease.is_current(grant.token)
    await lease.release(grant)
    assert not await lease.is_current(grant.token)


async def test_concurrent_contenders_get_exactly_one_grant(redis: Redis) -> None:
    lease = Lease(redis, "test", TTL_MS)
    grants = await asyncio.gather(*(lease.acquire(f"owner-{n}") for n in range(25)))
    assert len([grant for grant in grants if grant is not None]) == 1


async def test_a_release_wakes_a_blocked_standby(lease: Lease) -> None:
    grant = await lease.acquire("a")
    assert grant is not None
    waiting = asyncio.create_task(lease.wait_released(3.0))
    await asyncio.sleep(0.05)
    await lease.release(grant)
    assert await asyncio.wait_for(waiting, 1.0)


async def test_waiting_for_a_release_times_out(lease: Lease) -> None:
    assert not await lease.wait_released(0.05)


async def test_owner_ids_may_contain_colons(lease: Lease) -> None:
    grant = await lease.acquire("pod-0:1234:abc")
    assert grant is not None
    assert await lease.holder() == Grant("pod-0:1234:abc", grant.token)
    assert await lease.renew(grant)


def test_a_lease_keys_share_one_hash_slot() -> None:
    tags = {key.split("{")[1].split("}")[0] for key in _lease_keys("gateway")}
    assert tags == {"lease:gateway"}


def test_the_ttl_must_be_positive(redis: Redis) -> None:
    with pytest.raises(ValueError, match="positive"):
        Lease(redis, "test", 0)


def _lease_keys(name: str) -> list[str]:
    return [keys.lease(name), keys.lease_fence(name), keys.lease_handoff(name)]
