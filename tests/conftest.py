"""Shared fixtures: one embedded Redis per session, a flushed client per test, test settings.

Set ``AWF_TEST_REDIS_URL`` to run against an existing server instead (its DB is flushed per test).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from shared.platform.embedded_redis import EmbeddedRedis
from shared.platform.redis import create_redis
from shared.platform.settings import Settings, load_settings

__all__: list[str] = []


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedRedis | None]:
    """The session's embedded server (no persistence), or None when AWF_TEST_REDIS_URL is set."""
    if os.environ.get("AWF_TEST_REDIS_URL"):
        yield None
        return
    with EmbeddedRedis(tmp_path_factory.mktemp("redis"), appendonly=False) as server:
        yield server


@pytest.fixture(scope="session")
def redis_url(redis_server: EmbeddedRedis | None) -> str:
    return redis_server.url if redis_server else os.environ["AWF_TEST_REDIS_URL"]


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A client on the test server; the database is empty when the test starts."""
    client = create_redis(redis_url, "awf-test")
    try:
        await client.flushdb()
        yield client
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
def _empty_config_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("config") / "config.yml"
    path.write_text("{}\n")
    return path


@pytest.fixture
def settings(redis_url: str, _empty_config_file: Path) -> Settings:
    """Test settings on the test server; a developer's ./config.yml or AWF_CONFIG is ignored."""
    return load_settings(_empty_config_file, awf_env="test", redis_url=redis_url)
