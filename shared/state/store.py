"""Optimistic locking: the one place that writes shared state.

A `Transaction` WATCHes every key it reads, buffers its writes, and commits them in one
MULTI/EXEC. If any watched key changed meanwhile, EXEC fails and `Store.atomic` re-runs the
whole read-modify-write with jittered backoff, a bounded number of times, then raises
`VersionConflict`. Every document carries a `version`, bumped on each write, which the API
exposes as the ETag.
"""

from __future__ import annotations

import asyncio
import random
import weakref
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from redis.exceptions import WatchError

from shared.domain.models import Entity
from shared.platform.errors import AppError, VersionConflict

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline

__all__ = ["Store", "Transaction"]

E = TypeVar("E", bound=Entity)
R = TypeVar("R")
Op = Callable[["Pipeline"], Any]


class Transaction:
    """Reads watch their keys; writes are buffered until `commit`, and a read of a document the
    transaction already wrote returns that write (two steps of one command that touch the same
    story or project build on each other instead of the second undoing the first)."""

    def __init__(self, pipe: Pipeline) -> None:
        self._pipe = pipe
        self._ops: list[Op] = []
        self._watched: set[str] = set()
        self._written: dict[str, str] = {}  # what `put` buffered: later reads see it

    async def watch(self, *keys: str) -> None:
        new = [k for k in keys if k not in self._watched]
        if new:
            await self._pipe.watch(*new)
            self._watched.update(new)

    async def get(self, model: type[E], key: str) -> E | None:
        raw = await self.get_raw(key)
        return None if raw is None else model.model_validate_json(raw)

    async def get_raw(self, key: str) -> str | None:
        await self.watch(key)
        raw: str | None = await self._pipe.get(key)
        return self._written.get(key, raw)

    async def get_many(self, model: type[E], keys: Sequence[str]) -> list[E | None]:
        if not keys:
            return []
        await self.watch(*keys)
        raws = await self._pipe.mget(list(keys))
        raws = [self._written.get(k, r) for k, r in zip(keys, raws, strict=True)]
        return [None if r is None else model.model_validate_json(r) for r in raws]

    @property
    def reader(self) -> Pipeline:
        """Unwatched immediate reads (sorted-set ranges, counters) inside the transaction."""
        return self._pipe

    def put(self, key: str, doc: E) -> E:
        """Buffer a write of `doc` with its version bumped; returns the stored document."""
        stored = doc.model_copy(update={"version": doc.version + 1})
        payload = self._written[key] = stored.model_dump_json()
        self._ops.append(lambda p: p.set(key, payload))
        return stored

    def call(self, op: Op) -> None:
        """Buffer any other write (ZADD, XADD, SET NX...) to run inside MULTI."""
        self._ops.append(op)

    async def commit(self) -> list[Any]:
        self._pipe.multi()  # type: ignore[no-untyped-call]
        for op in self._ops:
            op(self._pipe)
        return list(await self._pipe.execute())


class Store:
    """Versioned documents in Redis, read plainly and written through `atomic`."""

    def __init__(self, redis: Redis, *, max_attempts: int = 64, backoff_cap_s: float = 0.1) -> None:
        self.redis = redis
        self._max_attempts = max_attempts
        self._backoff_cap_s = backoff_cap_s
        self._queues: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def get(self, model: type[E], key: str) -> E | None:
        raw = await self.redis.get(key)
        return None if raw is None else model.model_validate_json(raw)

    async def get_many(self, model: type[E], keys: Sequence[str]) -> list[E | None]:
        if not keys:
            return []
        raws = await self.redis.mget(list(keys))
        return [None if r is None else model.model_validate_json(r) for r in raws]

    async def atomic(
        self, body: Callable[[Transaction], Awaitable[R]], *, queue_on: str | None = None
    ) -> R:
        """Run `body` then commit; on a concurrent write re-run it, up to `max_attempts`.

        A refusal raised by `body` counts only if what it read was still current: an empty
        MULTI/EXEC over the watched keys proves it, or the body re-runs on fresh data.

        `queue_on` names a hot key (the project document): this process's transactions on it
        take turns (FIFO asyncio lock) instead of invalidating each other's WATCH and re-running.
        Writers in other processes are still caught by WATCH, so correctness does not rest on it.
        """
        if queue_on is None:
            return await self._attempts(body)
        lock = self._queues.get(queue_on)
        if lock is None:
            lock = self._queues[queue_on] = asyncio.Lock()
        async with lock:
            return await self._attempts(body)

    async def _attempts(self, body: Callable[[Transaction], Awaitable[R]]) -> R:
        for attempt in range(self._max_attempts):
            async with self.redis.pipeline(transaction=True) as pipe:
                tx = Transaction(pipe)
                try:
                    result = await self._run_once(tx, body)
                    await tx.commit()
                    return result
                except WatchError:
                    await asyncio.sleep(self._backoff(attempt))
        raise VersionConflict(
            "Too many concurrent changes to the same project; the request was not applied. "
            "Retry it.",
            attempts=self._max_attempts,
        )

    @staticmethod
    async def _run_once(tx: Transaction, body: Callable[[Transaction], Awaitable[R]]) -> R:
        try:
            return await body(tx)
        except AppError:
            await Transaction(tx.reader).commit()  # WatchError here: the refusal read stale data
            raise

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self._backoff_cap_s, 0.001 * 2**attempt)
        return random.uniform(0, ceiling)  # noqa: S311 - jitter, not security
