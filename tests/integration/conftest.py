"""Fixtures of the workflow integration tests: a Store on the per-test flushed Redis."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from shared.state.store import Store

if TYPE_CHECKING:
    from redis.asyncio import Redis


@pytest.fixture
def store(redis: Redis) -> Store:
    """The workflow store on the test's (empty) database."""
    return Store(redis)
