"""Autocomplete for ids, from Redis: projects, and a project's stories, epics and sprints.

A comma-separated list option completes its last item and keeps the ones already typed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from services.gateway.discord import wire
from services.gateway.discord.catalog import invocation_of
from shared.state import keys

if TYPE_CHECKING:
    from services.gateway.discord.interaction import Interaction
    from services.gateway.discord.wire import Json
    from shared.state.keys import EntityKind, IndexKind
    from shared.state.store import Store

__all__ = ["choices"]

_SCAN = 200
# option name -> (the index listing candidates, the kind of their documents)
_SOURCES: dict[str, tuple[IndexKind, EntityKind]] = {
    "ids": ("proposed", "story"),
    "story_ids": ("backlog", "story"),
    "story_id": ("stories", "story"),
    "id": ("stories", "story"),
    "epic_id": ("epics", "epic"),
    "sprint_id": ("sprints", "sprint"),
}


async def choices(store: Store, interaction: Interaction) -> list[Json]:
    options = invocation_of(interaction.data).options
    focused = next((o for o in options if o.get("focused")), None)
    if focused is None:
        return []
    name, typed = str(focused.get("name")), str(focused.get("value") or "")
    done, _, partial = typed.rpartition(",")
    prefix = f"{done}," if done else ""
    if name == "project":
        found = await _projects(store, partial.strip())
    else:
        project = next((o.get("value") for o in options if o.get("name") == "project"), None)
        found = await _entities(store, str(project or ""), name, partial.strip())
    return [
        {"name": wire.fit(label, 100), "value": wire.fit(prefix + value, 100)}
        for value, label in found[: wire.MAX_CHOICES]
    ]


async def _projects(store: Store, partial: str) -> list[tuple[str, str]]:
    ids = await store.redis.zrange(keys.PROJECTS, 0, _SCAN - 1)
    return [(i, i) for i in ids if i.startswith(partial)]


async def _entities(
    store: Store, project_id: str, option: str, partial: str
) -> list[tuple[str, str]]:
    source = _SOURCES.get(option)
    if source is None or not project_id:
        return []
    index, kind = source
    ids = await store.redis.zrevrange(keys.index(project_id, index), 0, _SCAN - 1)
    ids = [i for i in ids if i.startswith(partial)][: wire.MAX_CHOICES]
    if not ids:
        return []
    raws = await store.redis.mget([keys.entity(project_id, kind, i) for i in ids])
    return [(i, _label(i, raw)) for i, raw in zip(ids, raws, strict=True)]


def _label(entity_id: str, raw: str | None) -> str:
    if raw is None:
        return entity_id
    doc = json.loads(raw)
    title = doc.get("title") or doc.get("goal") or ""
    return f"{entity_id} · {title}" if title else entity_id
