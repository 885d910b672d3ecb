"""Sync the rendered slash commands to Discord, only when they changed since the last sync."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from shared.state import keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from services.gateway.discord.catalog import Catalog
    from services.gateway.discord.rest import DiscordRest

__all__ = ["sync_commands"]

log = structlog.get_logger("gateway.discord.sync")


async def sync_commands(
    redis: Redis, rest: DiscordRest, catalog: Catalog, app_id: str, guild_id: str | None = None
) -> bool:
    """Bulk-overwrite the commands when their digest differs from the last synced one; True
    when it did. The digest is written after Discord accepted the set, so a failure retries."""
    key = keys.discord_commands_digest(f"{app_id}:{guild_id or 'global'}")
    if await redis.get(key) == catalog.digest:
        log.info("commands_unchanged", digest=catalog.digest[:12])
        return False
    await rest.overwrite_commands(app_id, catalog.bodies, guild_id)
    await redis.set(key, catalog.digest)
    log.info("commands_synced", digest=catalog.digest[:12], commands=len(catalog.bodies))
    return True
