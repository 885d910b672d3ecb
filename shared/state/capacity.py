"""The cluster-wide set of active projects, bounded by orchestrator.max_concurrent_projects.

Reserving a slot is one Lua script on one key, so two replicas starting the last free slot at
the same moment cannot both succeed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.state import keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["active_projects", "release", "reserve"]

_RESERVE = """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
return 1
"""


async def reserve(redis: Redis, project_id: str, limit: int) -> bool:
    """Take a slot for `project_id` (idempotent); False when `limit` slots are taken."""
    taken = await redis.eval(_RESERVE, 1, keys.ACTIVE_PROJECTS, project_id, str(limit))  # type: ignore[misc]
    return bool(taken)


async def release(redis: Redis, project_id: str) -> None:
    await redis.srem(keys.ACTIVE_PROJECTS, project_id)  # type: ignore[misc]


async def active_projects(redis: Redis) -> list[str]:
    members: set[str] = await redis.smembers(keys.ACTIVE_PROJECTS)  # type: ignore[misc]
    return sorted(members)
