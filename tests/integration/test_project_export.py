"""One project out and back in: same id after a wipe, a new id beside the original, refusals."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from shared.domain.models import ScrumState
from shared.state import keys
from shared.state.backup import BackupError
from shared.state.project_export import (
    ENTITY_KINDS,
    ProjectExport,
    comparable,
    export_project,
    export_text,
)
from shared.state.project_import import import_project
from tests.factories import (
    dump_keys,
    get_project,
    make_project_in_state,
    new_project_id,
    run,
    timeline_events,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from shared.state.store import Store


async def _export(redis: Redis, project_id: str) -> ProjectExport:
    export = await export_project(redis, project_id)
    assert export is not None
    return export


def _without_transient(dump: dict[str, Any], project_id: str) -> dict[str, Any]:
    transient = keys.project_transient_prefixes(project_id)
    return {k: v for k, v in dump.items() if not k.startswith(transient)}


async def test_export_then_import_after_a_wipe_restores_the_project_key_for_key(
    store: Store,
) -> None:
    pid = await make_project_in_state(store, ScrumState.SPRINT_ACTIVE)
    await run(store, "sprint pause", project_id=pid, idempotency_key="pause-1")
    before = _without_transient(await dump_keys(store.redis, "awf:*"), pid)
    export = ProjectExport.model_validate_json(export_text(await _export(store.redis, pid)))
    await store.redis.flushdb()

    summary = await import_project(store.redis, export)

    assert summary.project_id == pid
    assert summary.timeline_events == len(export.timeline) > 0
    assert await dump_keys(store.redis, "awf:*") == before


async def test_an_import_under_a_new_id_is_a_working_copy_beside_the_original(
    store: Store,
) -> None:
    original = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    await run(store, "project bind_channel", {"project": original, "channel_id": "42"})
    export = await _export(store.redis, original)
    copy = new_project_id()

    await import_project(store.redis, export, copy)

    assert comparable(await _export(store.redis, original)) == comparable(export)
    project = await get_project(store, copy)
    assert (project.id, project.state, project.discord_channel_id) == (
        copy,
        export.project["state"],
        None,
    )
    assert not await store.redis.sismember(keys.DISCORD_BOUND_PROJECTS, copy)  # type: ignore[misc]
    assert await store.redis.sismember(keys.ACTIVE_PROJECTS, copy)  # type: ignore[misc]
    copied = await _export(store.redis, copy)
    assert all(d["project_id"] == copy for kind in ENTITY_KINDS for d in copied.entities[kind])
    assert copied.indexes == export.indexes
    assert [e.id for e in await timeline_events(store, copy)] == [e.id for e in export.timeline]
    await _plan_a_sprint(store, copy, export)


async def _plan_a_sprint(store: Store, project_id: str, export: ProjectExport) -> None:
    """Commands run on the copy through the executor like on any project."""
    backlog = [member for member, _ in export.indexes["backlog"]]
    added = await run(store, "backlog add_story", {"title": "New"}, project_id=project_id)
    planned = await run(store, "sprint plan", {"story_ids": backlog[:1]}, project_id=project_id)
    assert added.result["story_id"] not in backlog
    assert planned.to_state == ScrumState.SPRINT_PLANNED.value
    newest = await store.redis.zrange(keys.index(project_id, "stories"), -1, -1)
    assert newest == [added.result["story_id"]]  # the arrival counter came along


async def test_an_import_onto_an_existing_project_is_refused_and_changes_nothing(
    store: Store,
) -> None:
    pid = await make_project_in_state(store, ScrumState.IDLE)
    export = await _export(store.redis, pid)
    before = await dump_keys(store.redis, "*")

    with pytest.raises(BackupError, match=f"project {pid} already exists.*--as"):
        await import_project(store.redis, export)

    assert await dump_keys(store.redis, "*") == before


def _bad_story(data: dict[str, Any]) -> None:
    data["entities"]["story"][0]["priority"] = 9


def _foreign_story(data: dict[str, Any]) -> None:
    data["entities"]["story"][0]["project_id"] = "someone-else"


def _shuffled_timeline(data: dict[str, Any]) -> None:
    data["timeline"].reverse()


def _colon_in_an_id(data: dict[str, Any]) -> None:
    data["entities"]["story"][0]["id"] = "story-1:deadline"


def _bad_target_id(data: dict[str, Any]) -> None:
    data["project"]["name"] = ""


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        pytest.param(_bad_story, "story .* is invalid: priority", id="invalid-story"),
        pytest.param(_foreign_story, "belongs to another project", id="foreign-story"),
        pytest.param(_shuffled_timeline, "out of order", id="timeline-order"),
        pytest.param(_colon_in_an_id, "story with an invalid id", id="colon-id"),
        pytest.param(_bad_target_id, "project document in the export is invalid", id="bad-doc"),
    ],
)
async def test_a_bad_export_is_refused_and_nothing_is_written(
    store: Store, damage: Any, message: str
) -> None:
    pid = await make_project_in_state(store, ScrumState.IDLE)
    data = json.loads(export_text(await _export(store.redis, pid)))
    damage(data)
    export = ProjectExport.model_validate(data)
    await store.redis.flushdb()

    with pytest.raises(BackupError, match=message):
        await import_project(store.redis, export, None)

    assert await store.redis.dbsize() == 0


async def test_an_invalid_new_id_is_refused(store: Store) -> None:
    export = await _export(store.redis, await make_project_in_state(store, ScrumState.IDLE))

    with pytest.raises(BackupError, match="project document in the export is invalid: id"):
        await import_project(store.redis, export, "Not A Valid Id!")


async def test_the_export_text_is_stable_and_readable(store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.SPRINT_PLANNED)

    first, second = await _export(store.redis, pid), await _export(store.redis, pid)

    assert comparable(first) == comparable(second)
    data = json.loads(export_text(first))
    assert list(data)[:3] == ["format", "format_version", "project_id"]
    stories = [d["id"] for d in data["entities"]["story"]]
    assert stories == sorted(stories)
    assert len(stories) == 5
    assert data["project"]["state"] == "SPRINT_PLANNED"
    assert "seq" in data["other"]
    assert data["timeline"][0]["fields"]["command"]
