"""A Store on the test Redis driven from synchronous code: Hypothesis' state machines call their
rules synchronously, so each rule runs its coroutine to the end on this private event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, TypeVar

from shared.platform.redis import create_redis
from shared.state.store import Store

__all__ = ["SyncStore"]

T = TypeVar("T")


class SyncStore:
    """`with SyncStore(url) as s:` then `s.run(coroutine)`; `s.store` is the Store itself."""

    def __init__(self, redis_url: str) -> None:
        self._loop = asyncio.new_event_loop()
        self.store = Store(create_redis(redis_url, "awf-fuzz"))

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(coroutine)

    def flush(self) -> None:
        async def flush() -> None:
            await self.store.redis.flushdb()

        self.run(flush())

    def __enter__(self) -> SyncStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.run(self.store.redis.aclose())
        finally:
            self._loop.close()
