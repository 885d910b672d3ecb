"""Load one project export into Redis, under its own id or a new one, in one MULTI/EXEC.

Everything is checked before anything is written (documents against the domain models, stream
ids, the target id being free), so a refused import changes nothing. Keys are rebuilt under the
target id's hash tag; documents get the target id; the timeline is re-added with its original
entry ids, in order. A copy under a new id starts without Discord state (channel, threads,
cursor): one channel feeds one project, so the original keeps it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError
from redis.exceptions import WatchError

from shared.domain.models import Approval, Entity, Epic, Project, Sprint, Story, Task
from shared.domain.tdd import TDDCycle
from shared.state import keys
from shared.state.backup import BackupError
from shared.state.redis_values import StoredValue, stream_ids_increase, write_value

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import Pipeline

    from shared.state.project_export import ProjectExport

__all__ = ["ImportSummary", "import_project"]

_MODELS: dict[str, type[Entity]] = {
    "epic": Epic,
    "story": Story,
    "sprint": Sprint,
    "approval": Approval,
    "task": Task,
    "cycle": TDDCycle,
}


@dataclass(frozen=True)
class ImportSummary:
    project_id: str
    entities: int
    timeline_events: int
    other_keys: int


@dataclass(frozen=True)
class _Plan:
    """What the import writes: key -> serialized document, plus the generic keys."""

    project_id: str
    documents: dict[str, str]
    other: dict[str, StoredValue]


async def import_project(
    redis: Redis, export: ProjectExport, new_id: str | None = None
) -> ImportSummary:
    """Create the project from `export`; BackupError (and nothing written) when it cannot."""
    plan = _plan(export, new_id or export.project_id)
    await _refuse_if_taken(redis, plan.project_id)
    try:
        await _write(redis, export, plan)
    except WatchError:
        raise BackupError(
            f"project {plan.project_id} was created while importing; nothing was imported"
        ) from None
    return ImportSummary(
        plan.project_id, len(plan.documents) - 1, len(export.timeline), len(plan.other)
    )


def _plan(export: ProjectExport, target: str) -> _Plan:
    if export.project.get("id") != export.project_id:
        raise BackupError("the export is inconsistent: its project document has another id")
    if not stream_ids_increase([entry.id for entry in export.timeline]):
        raise BackupError("the export's timeline ids are malformed or out of order")
    documents = {keys.project(target): _project_document(export, target)}
    for kind, docs in export.entities.items():
        for doc in docs:
            name = keys.entity(target, kind, _entity_id(kind, doc))
            documents[name] = _entity(export, kind, doc, target)
    return _Plan(target, documents, _other_keys(export, target, set(documents)))


def _project_document(export: ProjectExport, target: str) -> str:
    changes: dict[str, Any] = {"id": target}
    if target != export.project_id:
        changes["discord_channel_id"] = None
    return _validated(Project, {**export.project, **changes}, "the project document")


def _other_keys(export: ProjectExport, target: str, taken: set[str]) -> dict[str, StoredValue]:
    prefix = keys.project_prefix(target)
    other = {f"{prefix}:{suffix}": stored for suffix, stored in export.other.items()}
    reserved = taken | {keys.timeline(target)} | {keys.index(target, k) for k in export.indexes}
    if clash := sorted(reserved & set(other)):
        raise BackupError(f"the export is inconsistent: {clash[0]} appears twice")
    if target != export.project_id:
        discord = keys.project_discord_prefix(target)
        other = {name: v for name, v in other.items() if not name.startswith(discord)}
    return other


def _entity_id(kind: str, doc: dict[str, Any]) -> str:
    entity_id = doc.get("id")
    if not isinstance(entity_id, str) or not entity_id or ":" in entity_id:
        raise BackupError(f"the export holds a {kind} with an invalid id: {entity_id!r}")
    return entity_id


def _entity(export: ProjectExport, kind: str, doc: dict[str, Any], target: str) -> str:
    what = f"{kind} {doc.get('id')!r}"
    if doc.get("project_id") != export.project_id:
        raise BackupError(f"the export is inconsistent: {what} belongs to another project")
    return _validated(_MODELS[kind], {**doc, "project_id": target}, what)


def _validated(model: type[BaseModel], doc: dict[str, Any], what: str) -> str:
    try:
        parsed = model.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise BackupError(f"{what} in the export is invalid: {where}: {first['msg']}") from None
    return parsed.model_dump_json()


async def _refuse_if_taken(redis: Redis, project_id: str) -> None:
    registered = await redis.zscore(keys.PROJECTS, project_id) is not None
    async for _ in redis.scan_iter(match=keys.project_pattern(project_id), count=1_000):
        registered = True
        break
    if registered:
        raise BackupError(
            f"project {project_id} already exists here; nothing was imported "
            "(import under another id with --as NEW_ID)"
        )


async def _write(redis: Redis, export: ProjectExport, plan: _Plan) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        await pipe.watch(keys.project(plan.project_id), keys.PROJECTS)
        pipe.multi()  # type: ignore[no-untyped-call]
        for name, document in plan.documents.items():
            pipe.set(name, document)
        _write_indexes_and_timeline(pipe, export, plan.project_id)
        for name, stored in plan.other.items():
            write_value(pipe, name, stored)
        _write_registry(pipe, export, plan.project_id)
        await pipe.execute()


def _write_indexes_and_timeline(pipe: Pipeline, export: ProjectExport, project_id: str) -> None:
    for kind, members in export.indexes.items():
        if members:
            pipe.zadd(keys.index(project_id, kind), dict(members))
    stream = keys.timeline(project_id)
    for entry in export.timeline:
        pipe.xadd(stream, entry.fields, id=entry.id)  # type: ignore[arg-type]


def _write_registry(pipe: Pipeline, export: ProjectExport, project_id: str) -> None:
    registry = export.registry
    registered_at = time.time() if registry.registered_at is None else registry.registered_at
    pipe.zadd(keys.PROJECTS, {project_id: registered_at})
    if registry.active:
        pipe.sadd(keys.ACTIVE_PROJECTS, project_id)
    if registry.discord_bound and project_id == export.project_id:
        pipe.sadd(keys.DISCORD_BOUND_PROJECTS, project_id)
