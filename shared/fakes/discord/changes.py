"""Wake waiters when the fake's state changes, so tests wait for facts, not for sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

__all__ = ["Changes"]

T = TypeVar("T")


class Changes:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait_for(self, predicate: Callable[[], T | None], timeout_s: float) -> T:
        """The first truthy value of ``predicate``, re-checked after every change."""
        async with asyncio.timeout(timeout_s):
            while not (result := predicate()):
                await self._event.wait()
        return result
