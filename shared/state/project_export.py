"""One project as a readable JSON document: what `awf export` writes and backups keep per project.

Sections: the project document, its entities by kind (epics, stories, sprints, approvals, tasks,
TDD cycles, sorted by id), its indexes (members with scores, in order), its timeline (stream ids
and raw fields, in order), its place in the global registry, and every other key of the project
(counters, usage, context cache, Discord bookkeeping) as typed values. Claims and leases that only
coordinate running work in one installation (`keys.project_transient_prefixes`) are left out.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.models import utcnow
from shared.state import keys
from shared.state.redis_values import StoredValue, read_values

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "ENTITY_KINDS",
    "EXPORT_FORMAT",
    "INDEX_KINDS",
    "ProjectExport",
    "Registry",
    "TimelineEntry",
    "comparable",
    "export_project",
    "export_text",
]

EXPORT_FORMAT: Literal["awf-project-export"] = "awf-project-export"
ENTITY_KINDS: tuple[keys.EntityKind, ...] = get_args(keys.EntityKind)
INDEX_KINDS: tuple[keys.IndexKind, ...] = get_args(keys.IndexKind)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Registry(_Strict):
    """The project's membership of the global sets: registered (when), active, Discord-bound."""

    registered_at: float | None = None
    active: bool = False
    discord_bound: bool = False


class TimelineEntry(_Strict):
    id: str
    fields: dict[str, str]


class ProjectExport(_Strict):
    format: Literal["awf-project-export"] = EXPORT_FORMAT
    format_version: Literal[1] = 1
    project_id: str
    exported_at: datetime = Field(default_factory=utcnow)
    registry: Registry = Field(default_factory=Registry)
    project: dict[str, Any]
    entities: dict[keys.EntityKind, list[dict[str, Any]]] = Field(default_factory=dict)
    indexes: dict[keys.IndexKind, list[tuple[str, float]]] = Field(default_factory=dict)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    other: dict[str, StoredValue] = Field(default_factory=dict)


async def export_project(redis: Redis, project_id: str) -> ProjectExport | None:
    """The project's export, or None when no project document exists under that id."""
    names = await _project_keys(redis, project_id)
    values = await read_values(redis, names)
    project_key = keys.project(project_id)
    if project_key not in values or values[project_key].type != "string":
        return None
    export = ProjectExport(
        project_id=project_id,
        registry=await _registry(redis, project_id),
        project=json.loads(values.pop(project_key).value),
        entities={kind: [] for kind in ENTITY_KINDS},
    )
    prefix_length = len(keys.project_prefix(project_id)) + 1
    for name, stored in values.items():
        _place(export, name[prefix_length:], stored)
    return export


def export_text(export: ProjectExport) -> str:
    """The file form: indented JSON, fields in a fixed order, UTF-8 left readable."""
    return json.dumps(export.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


async def _project_keys(redis: Redis, project_id: str) -> list[str]:
    transient = keys.project_transient_prefixes(project_id)
    found = [
        name
        async for name in redis.scan_iter(match=keys.project_pattern(project_id), count=1_000)
        if not name.startswith(transient)
    ]
    return sorted(found)


async def _registry(redis: Redis, project_id: str) -> Registry:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zscore(keys.PROJECTS, project_id)
        pipe.sismember(keys.ACTIVE_PROJECTS, project_id)
        pipe.sismember(keys.DISCORD_BOUND_PROJECTS, project_id)
        registered_at, active, bound = await pipe.execute()
    return Registry(registered_at=registered_at, active=bool(active), discord_bound=bool(bound))


def _place(export: ProjectExport, suffix: str, stored: StoredValue) -> None:
    """File one key of the project under the section its name says it belongs to."""
    kind, _, rest = suffix.partition(":")
    if suffix == "timeline" and stored.type == "stream":
        export.timeline = [TimelineEntry(id=i, fields=f) for i, f in stored.value]
    elif kind == "idx" and rest in INDEX_KINDS and stored.type == "zset":
        export.indexes[rest] = [(m, s) for m, s in stored.value]
    elif _is_document(kind, rest, stored):
        export.entities[kind].append(json.loads(stored.value))  # type: ignore[index]
    else:
        export.other[suffix] = stored


def _is_document(kind: str, entity_id: str, stored: StoredValue) -> bool:
    return (
        kind in ENTITY_KINDS
        and bool(entity_id)
        and ":" not in entity_id
        and stored.type == "string"
        and stored.ttl_ms is None
    )


def comparable(export: ProjectExport) -> dict[str, Any]:
    """The export without what changes by itself: when it was taken, and expiring keys."""
    data = export.model_dump(mode="json", exclude={"exported_at"})
    data["other"] = {k: v for k, v in data["other"].items() if v["ttl_ms"] is None}
    return data
