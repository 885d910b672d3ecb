"""State for the benchmarks, produced only by real commands through the real executor.

`Seeder` runs commands in-process (the same `execute` the API calls). `Snapshot` DUMPs every key
of a seeded project so a benchmark can put that exact state back (RESTORE) before a sample that
consumes it, such as `sprint plan`; the bytes restored are the bytes real commands wrote.
`CountingStore` counts the optimistic-locking attempts of `Store.atomic` without touching it.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from shared.domain.commands import Role
from shared.state import keys
from shared.state.store import Store, Transaction
from shared.workflow.context import Actor, CommandOutcome, CommandRequest, Limits
from shared.workflow.executor import execute

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["CountingStore", "Seeder", "Snapshot", "missing_members", "settle", "story_count"]

R = TypeVar("R")
_BATCH = 500


class CountingStore(Store):
    """`Store` whose `atomic` counts how many times the body ran and how many commits won."""

    def __init__(self, redis: Redis) -> None:
        super().__init__(redis)
        self.attempts = 0
        self.commits = 0

    async def atomic(self, body: Callable[[Transaction], Awaitable[R]], **options: Any) -> R:
        async def counted(tx: Transaction) -> R:
            self.attempts += 1
            return await body(tx)

        result = await super().atomic(counted, **options)
        self.commits += 1
        return result

    def reset(self) -> None:
        self.attempts = self.commits = 0


class Seeder:
    """Runs commands of the table in-process as an admin, exactly as the API would."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.actor = Actor("loadtest", Role.ADMIN)
        self.limits = Limits()

    async def run(
        self, command: str, args: dict[str, Any], project_id: str | None = None
    ) -> CommandOutcome:
        request = CommandRequest(command, args, self.actor, project_id)
        return await execute(self.store, request, self.limits)

    async def project(self, project_id: str) -> None:
        """A registered project in BACKLOG_READY (the state `sprint plan` needs)."""
        await self.run(
            "project register", {"repo_url": f"file:///srv/git/{project_id}.git", "id": project_id}
        )
        await self.run("epic", {"description": "load test epic"}, project_id)

    async def stories(self, project_id: str, count: int, prefix: str = "story") -> float:
        """Add `count` stories one `backlog add_story` at a time; returns the seconds it took."""
        began = time.perf_counter()
        for n in range(count):
            args = {"title": f"{prefix} {n}", "priority": 1 + n % 5, "points": n % 8}
            await self.run("backlog add_story", args, project_id)
        return time.perf_counter() - began


async def story_count(redis: Redis, project_id: str) -> int:
    """Stories of the project (every story, by arrival): the lost-update check's denominator."""
    return int(await redis.zcard(keys.index(project_id, "stories")))


async def missing_members(redis: Redis, project_id: str, story_ids: Sequence[str]) -> int:
    """How many of `story_ids` are absent from the project's story index."""
    missing = 0
    for start in range(0, len(story_ids), _BATCH):
        batch = list(story_ids[start : start + _BATCH])
        scores = await redis.zmscore(keys.index(project_id, "stories"), batch)
        missing += sum(1 for s in scores if s is None)
    return missing


@dataclass(frozen=True)
class Snapshot:
    """Every key of one project as DUMP blobs, to put back with `restore`."""

    project_id: str
    blobs: dict[str, tuple[bytes, int]]  # key -> (DUMP payload, TTL in ms or 0)

    @classmethod
    async def take(cls, raw: Redis, project_id: str) -> Snapshot:
        """`raw` must be a client with decode_responses=False (DUMP payloads are binary)."""
        names = await _project_keys(raw, project_id)
        blobs: dict[str, tuple[bytes, int]] = {}
        for start in range(0, len(names), _BATCH):
            batch = names[start : start + _BATCH]
            async with raw.pipeline(transaction=False) as pipe:
                for name in batch:
                    pipe.dump(name)
                    pipe.pttl(name)
                replies = await pipe.execute()
            for i, name in enumerate(batch):
                blob, ttl = replies[2 * i], replies[2 * i + 1]
                if blob is not None:
                    blobs[name] = (blob, max(int(ttl), 0))
        return cls(project_id, blobs)

    async def restore(self, raw: Redis) -> None:
        """Delete keys created since the snapshot, RESTORE every snapshot key (REPLACE), settle.

        Replacing big sorted sets and streams leaves their old copies to valkey's lazy-free
        thread; `settle` waits for it (and for our own garbage collection) so that work does not
        land in the next timed request.
        """
        extra = [k for k in await _project_keys(raw, self.project_id) if k not in self.blobs]
        items = list(self.blobs.items())
        for start in range(0, max(len(items), len(extra)), _BATCH):
            async with raw.pipeline(transaction=False) as pipe:
                if batch_extra := extra[start : start + _BATCH]:
                    pipe.delete(*batch_extra)
                for name, (blob, ttl) in items[start : start + _BATCH]:
                    pipe.restore(name, ttl, blob, replace=True)
                await pipe.execute()
        await settle(raw)


async def settle(raw: Redis, timeout_s: float = 2.0) -> None:
    """Wait until valkey has no lazy-free work pending, then collect our own garbage."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        memory = await raw.info("memory")
        if int(memory.get("lazyfree_pending_objects", 0)) == 0:
            break
        await asyncio.sleep(0.005)
    gc.collect()
    await asyncio.sleep(0.02)


async def _project_keys(raw: Redis, project_id: str) -> list[str]:
    pattern = f"{keys.project_prefix(project_id)}:*"
    return [
        k.decode() if isinstance(k, bytes) else k
        async for k in raw.scan_iter(match=pattern, count=1000)
    ]
