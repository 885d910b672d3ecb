"""The cluster-wide set of active projects, bounded by orchestrator.max_concurrent_projects.

`project start` adds to it and `project stop` removes from it inside the same transaction as the
project's status change (the set is watched), so the set and the statuses never disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.state import keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["active_projects"]


async def active_projects(redis: Redis) -> list[str]:
    members: set[str] = await redis.smembers(keys.ACTIVE_PROJECTS)  # type: ignore[misc]
    return sorted(members)
