"""Who may do what from Discord: guild roles mapped to our roles, and a per-user rate limit.

`discord.roles` maps, per guild id (or "*" for every guild), Discord role ids or names to
viewer/member/approver/admin; a member holds the highest role any of their Discord roles maps
to. The guild's own id names @everyone. Names need the guild's role list, fetched over REST
and cached in Redis for a few minutes.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.domain.commands import Role
from shared.state import keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["RateVerdict", "RoleResolver", "take_rate_slot"]

RoleNamesFetcher = Callable[[str], Awaitable[list[dict[str, object]]]]
_ROLE_NAMES_TTL_S = 300
_WINDOW_MS = 60_000

_TAKE_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + tonumber(ARGV[2]) - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, 0}
"""


class RoleResolver:
    def __init__(
        self,
        mapping: Mapping[str, Mapping[str, str]],
        redis: Redis,
        fetch_role_names: RoleNamesFetcher | None,
    ) -> None:
        self._mapping = mapping
        self._redis = redis
        self._fetch = fetch_role_names

    async def role_of(self, guild_id: str, member_role_ids: list[str]) -> Role | None:
        """The highest role the member's Discord roles map to, or None when none does."""
        table = {**self._mapping.get("*", {}), **self._mapping.get(guild_id, {})}
        held = [guild_id, *member_role_ids]
        found = [Role[table[r].upper()] for r in held if r in table]
        if any(not key.isdigit() for key in table):
            names = await self._role_names(guild_id)
            by_name = {k.lower(): v for k, v in table.items() if not k.isdigit()}
            held_names = (names.get(r, "").lower() for r in held)
            found += [Role[by_name[n].upper()] for n in held_names if n in by_name]
        return max(found, default=None)

    async def _role_names(self, guild_id: str) -> dict[str, str]:
        key = keys.discord_guild_roles(guild_id)
        cached = await self._redis.get(key)
        if cached is not None:
            names: dict[str, str] = json.loads(cached)
            return names
        if self._fetch is None:
            return {}
        fetched = {str(r["id"]): str(r["name"]) for r in await self._fetch(guild_id)}
        await self._redis.set(key, json.dumps(fetched), ex=_ROLE_NAMES_TTL_S)
        return fetched


@dataclass(frozen=True)
class RateVerdict:
    allowed: bool
    retry_after_s: float


async def take_rate_slot(redis: Redis, user_id: str, per_minute: int, token: str) -> RateVerdict:
    """Count one command of `user_id` in a sliding minute (Redis' clock), unless it is full."""
    allowed, wait_ms = await redis.eval(  # type: ignore[misc]
        _TAKE_SLOT, 1, keys.discord_rate(user_id), str(per_minute), str(_WINDOW_MS), token
    )
    return RateVerdict(bool(allowed), max(int(wait_ms), 0) / 1000)
