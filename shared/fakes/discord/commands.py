"""Application commands, global and per guild, as bulk-overwrite/list/upsert/delete see them."""

from __future__ import annotations

from shared.fakes.discord import payloads
from shared.fakes.discord.errors import unknown
from shared.fakes.discord.ids import Snowflakes
from shared.fakes.discord.payloads import Json

__all__ = ["CommandRegistry"]


class CommandRegistry:
    def __init__(self, app_id: str, ids: Snowflakes) -> None:
        self._app_id = app_id
        self._ids = ids
        self._by_scope: dict[str | None, dict[str, Json]] = {}

    def overwrite(self, guild_id: str | None, bodies: list[Json]) -> list[Json]:
        """Bulk overwrite: commands keep their id when their name survives, as on Discord."""
        old = {c["name"]: c for c in self._by_scope.get(guild_id, {}).values()}
        fresh = [self._stored(body, guild_id, old.get(body["name"])) for body in bodies]
        self._by_scope[guild_id] = {c["id"]: c for c in fresh}
        return fresh

    def upsert(self, guild_id: str | None, body: Json) -> Json:
        scope = self._by_scope.setdefault(guild_id, {})
        existing = next((c for c in scope.values() if c["name"] == body["name"]), None)
        stored = self._stored(body, guild_id, existing)
        scope[stored["id"]] = stored
        return stored

    def list(self, guild_id: str | None) -> list[Json]:
        return list(self._by_scope.get(guild_id, {}).values())

    def get(self, guild_id: str | None, command_id: str) -> Json:
        found = self._by_scope.get(guild_id, {}).get(command_id)
        if found is None:
            raise unknown("Application Command")
        return found

    def delete(self, guild_id: str | None, command_id: str) -> None:
        self.get(guild_id, command_id)
        del self._by_scope[guild_id][command_id]

    def find(self, name: str, guild_id: str) -> Json | None:
        """The command a user would invoke by name in the guild: a guild one wins."""
        for scope in (guild_id, None):
            for stored in self._by_scope.get(scope, {}).values():
                if stored["name"] == name:
                    return stored
        return None

    def _stored(self, body: Json, guild_id: str | None, existing: Json | None) -> Json:
        command_id = existing["id"] if existing else self._ids.next()
        return payloads.command(command_id, self._app_id, body, guild_id)
