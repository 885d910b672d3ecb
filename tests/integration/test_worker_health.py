"""A worker refreshes its health key every ``monitoring.health_check_interval`` seconds and keeps
it ``HEALTH_TTL_FACTOR`` intervals (arq alone keeps it the interval plus one second)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.healthcheck import worker_health_key, worker_host
from services.worker.health import HEALTH_TTL_FACTOR, HealthKeyWorker, health_ttl_ms
from shared.platform.settings import Settings, load_settings
from tests.integration.worker_fixtures import running_workers

pytestmark = pytest.mark.integration

INTERVAL_S = 2


def _settings(redis_url: str, tmp_path: Path, interval_s: int) -> Settings:
    config = tmp_path / "config.yml"
    config.write_text(f"monitoring: {{health_check_interval: {interval_s}}}\n")
    return load_settings(
        config, awf_env="test", redis_url=redis_url, anthropic_base_url="http://127.0.0.1:9"
    )


async def _watch(redis: Redis, key: str, seconds: float) -> tuple[list[str], list[int]]:
    """The distinct values the key held and its remaining TTLs once written, every 50 ms."""
    values: list[str] = []
    ttls: list[int] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        async with redis.pipeline(transaction=True) as tx:
            tx.get(key)
            tx.pttl(key)
            value, ttl = await tx.execute()
        if value is not None and (not values or values[-1] != value):
            values.append(value)
        if values:
            ttls.append(int(ttl))
        await asyncio.sleep(0.05)
    return values, ttls


async def test_the_health_key_is_refreshed_every_interval_and_lives_two(
    redis: Redis, redis_url: str, tmp_path: Path
) -> None:
    settings = _settings(redis_url, tmp_path, INTERVAL_S)
    key = worker_health_key(worker_host())
    async with running_workers(settings, 1) as (worker,):
        assert isinstance(worker, HealthKeyWorker)
        assert worker.health_check_interval == INTERVAL_S
        values, ttls = await _watch(redis, key, INTERVAL_S * 2.5)
    ttl_ms = health_ttl_ms(INTERVAL_S)
    assert ttl_ms == INTERVAL_S * HEALTH_TTL_FACTOR * 1000
    assert max(ttls) > (INTERVAL_S + 1) * 1000  # longer than arq's own interval + 1 s
    assert max(ttls) <= ttl_ms
    assert min(ttls) > ttl_ms - INTERVAL_S * 1000 - 500  # refreshed before half of it was gone
    assert 2 <= len(values) <= 3  # one write at start, then one per interval


async def test_a_long_interval_is_not_refreshed_sooner(
    redis: Redis, redis_url: str, tmp_path: Path
) -> None:
    settings = _settings(redis_url, tmp_path, 30)
    key = worker_health_key(worker_host())
    async with running_workers(settings, 1):
        values, ttls = await _watch(redis, key, 2.0)
    assert len(values) == 1
    assert min(ttls) > 57_000
