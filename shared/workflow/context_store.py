"""Agent context in Redis: the last pack per story, the summary cache, and per-role memory.

The summary cache is keyed by file path and holds the digest it was made from, so a re-run
reuses a summary exactly while the file is unchanged. A small index (path -> digest and size)
lets /context status and /context optimize judge the cache without reading the summaries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from shared.agents.context import CachedSummary, ContextPack
from shared.domain.models import utcnow
from shared.state import keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from shared.state.store import Store, Transaction

__all__ = [
    "MEMORY_LIMIT",
    "IndexEntry",
    "MemoryNote",
    "StoredPack",
    "cached_summaries",
    "files_seen",
    "load_pack",
    "recall",
    "recent_packs",
    "remember",
    "remember_in",
    "save_build",
    "stale_paths",
    "stats",
    "summary_index",
]

MEMORY_LIMIT = 20  # notes kept per role
NOTE_MAX_CHARS = 400
SUMMARY_MAX_CHARS = 32_000  # larger summaries are not worth a cache entry
MAX_SUMMARIES = 3_000  # past this, a build drops the entries its own scan proves stale


class StoredPack(BaseModel):
    pack: ContextPack
    built_at: datetime = Field(default_factory=utcnow)
    summaries_reused: int = 0
    summaries_made: int = 0


class MemoryNote(BaseModel):
    note: str
    at: datetime = Field(default_factory=utcnow)


@dataclass(frozen=True)
class IndexEntry:
    digest: str
    size: int  # characters of the stored summary entry

    @classmethod
    def parse(cls, raw: str) -> IndexEntry:
        digest, _, size = raw.partition(" ")
        return cls(digest, int(size or 0))


def stale_paths(index: Mapping[str, IndexEntry], seen: Mapping[str, str]) -> list[str]:
    """Cached paths whose file changed or vanished since the last scan, in path order."""
    return sorted(path for path, entry in index.items() if seen.get(path) != entry.digest)


async def cached_summaries(
    redis: Redis, project_id: str, paths: Sequence[str]
) -> dict[str, CachedSummary]:
    if not paths:
        return {}
    raws: list[str | None] = await redis.hmget(  # type: ignore[misc]
        keys.context_summaries(project_id), list(paths)
    )
    return {
        path: CachedSummary.model_validate_json(raw)
        for path, raw in zip(paths, raws, strict=True)
        if raw is not None
    }


async def summary_index(reader: Any, project_id: str) -> dict[str, IndexEntry]:
    """`reader`: the Redis client, or a transaction's pipeline in WATCH mode."""
    raw = await _hash(reader, keys.context_summary_index(project_id))
    return {path: IndexEntry.parse(value) for path, value in raw.items()}


async def files_seen(reader: Any, project_id: str) -> dict[str, str]:
    """Path -> digest of every file the last workspace scan saw."""
    return await _hash(reader, keys.context_files(project_id))


async def stats(reader: Any, project_id: str) -> dict[str, int]:
    raw = await _hash(reader, keys.context_stats(project_id))
    return {name: int(value) for name, value in sorted(raw.items())}


async def _hash(reader: Any, key: str) -> dict[str, str]:
    raw: dict[str, str] = await reader.hgetall(key)
    return raw


async def save_build(
    redis: Redis,
    project_id: str,
    stored: StoredPack,
    made: Mapping[str, CachedSummary],
    seen: Mapping[str, str],
) -> None:
    """Record the pack, cache new summaries and remember what the scan saw (path -> digest)."""
    pid, story_id = project_id, stored.pack.story_id
    entries = {p: s.model_dump_json() for p, s in made.items() if len(s.text) <= SUMMARY_MAX_CHARS}
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(keys.context_pack(pid, story_id), stored.model_dump_json())
        pipe.zadd(keys.context_packs(pid), {story_id: int(stored.built_at.timestamp() * 1000)})
        if entries:
            pipe.hset(keys.context_summaries(pid), mapping=entries)
            index = {p: f"{made[p].digest} {len(raw)}" for p, raw in entries.items()}
            pipe.hset(keys.context_summary_index(pid), mapping=index)
        pipe.delete(keys.context_files(pid))
        if seen:
            pipe.hset(keys.context_files(pid), mapping=dict(seen))
        pipe.hincrby(keys.context_stats(pid), "packs_built", 1)
        pipe.hincrby(keys.context_stats(pid), "summaries_reused", stored.summaries_reused)
        pipe.hincrby(keys.context_stats(pid), "summaries_made", stored.summaries_made)
        await pipe.execute()
    size: int = await redis.hlen(keys.context_summary_index(pid))  # type: ignore[misc]
    if size > MAX_SUMMARIES:
        await _drop_stale(redis, pid, seen)


async def _drop_stale(redis: Redis, project_id: str, seen: Mapping[str, str]) -> None:
    stale = stale_paths(await summary_index(redis, project_id), seen)
    if stale:
        async with redis.pipeline(transaction=True) as pipe:
            pipe.hdel(keys.context_summaries(project_id), *stale)
            pipe.hdel(keys.context_summary_index(project_id), *stale)
            await pipe.execute()


async def load_pack(redis: Redis, project_id: str, story_id: str) -> StoredPack | None:
    raw = await redis.get(keys.context_pack(project_id, story_id))
    return None if raw is None else StoredPack.model_validate_json(raw)


async def recent_packs(redis: Redis, project_id: str, limit: int) -> list[StoredPack]:
    story_ids = await redis.zrevrange(keys.context_packs(project_id), 0, limit - 1)
    if not story_ids:
        return []
    raws = await redis.mget([keys.context_pack(project_id, s) for s in story_ids])
    return [StoredPack.model_validate_json(r) for r in raws if r is not None]


def _note(note: str) -> str:
    text = " ".join(note.split())
    clipped = text if len(text) <= NOTE_MAX_CHARS else text[: NOTE_MAX_CHARS - 1] + "…"
    return MemoryNote(note=clipped).model_dump_json()


async def remember(store: Store, project_id: str, role: str, note: str) -> None:
    """Keep a short note for an agent role (newest first, at most MEMORY_LIMIT)."""
    key = keys.context_memory(project_id, role)
    async with store.redis.pipeline(transaction=True) as pipe:
        pipe.lpush(key, _note(note))
        pipe.ltrim(key, 0, MEMORY_LIMIT - 1)
        await pipe.execute()


def remember_in(tx: Transaction, project_id: str, role: str, note: str) -> None:
    """`remember` as part of a workflow transaction, committed with it."""
    key, payload = keys.context_memory(project_id, role), _note(note)
    tx.call(lambda p: p.lpush(key, payload))
    tx.call(lambda p: p.ltrim(key, 0, MEMORY_LIMIT - 1))


async def recall(redis: Redis, project_id: str, role: str, limit: int) -> list[MemoryNote]:
    raws: list[str] = await redis.lrange(  # type: ignore[misc]
        keys.context_memory(project_id, role), 0, limit - 1
    )
    return [MemoryNote.model_validate_json(r) for r in raws]
