"""Fixtures of the fuzz tests: the seeded world on the per-test flushed Redis, and the API served
by a real uvicorn on 127.0.0.1 (its lifespan entered), over the same database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from services.api.app import create_app
from shared.state.store import Store
from tests.fuzz.live_api import LiveApi
from tests.fuzz.world import World, seed_world
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are found by name
    ServerErrors,
    api_settings_fixture,
    server_errors_fixture,
    tokens_fixture,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from shared.platform.settings import Settings


@pytest.fixture
def store(redis: Redis) -> Store:
    return Store(redis)


@pytest.fixture
async def world(store: Store) -> World:
    """One project per Scrum state, with TDD cycles in the running and the paused sprint."""
    return await seed_world(store)


@pytest.fixture
def live_api(api_settings: Settings, server_errors: ServerErrors) -> Iterator[LiveApi]:
    """The app on a free loopback port; an unexpected exception behind a 500 is kept in
    `server_errors` (the API's error logger is swapped for the test)."""
    with LiveApi(create_app(api_settings)) as live:
        yield live
