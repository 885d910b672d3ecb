"""After a fuzz run: nothing stored is lost or corrupted.

Every listed project's document parses, in a Scrum state; every id a project's indexes list
names a document that parses as its model; every TDD cycle parses, in a known (phase, status).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from shared.domain.models import Approval, Epic, Project, ScrumState, Sprint, Story
from shared.domain.phases import Phase
from shared.domain.tdd import CycleStatus, TDDCycle
from shared.state import keys

if TYPE_CHECKING:
    from shared.state.keys import EntityKind, IndexKind
    from shared.state.store import Store

__all__ = ["check_store"]

_INDEXED: tuple[tuple[IndexKind, EntityKind, type[BaseModel]], ...] = (
    ("stories", "story", Story),
    ("backlog", "story", Story),
    ("proposed", "story", Story),
    ("epics", "epic", Epic),
    ("sprints", "sprint", Sprint),
    ("approvals", "approval", Approval),
    ("approvals:pending", "approval", Approval),
)


async def check_store(store: Store) -> int:
    """Raise AssertionError naming the first broken document; else how many were read."""
    read = 0
    for project_id in await store.redis.zrange(keys.PROJECTS, 0, -1):
        raw = await store.redis.get(keys.project(project_id))
        assert raw is not None, f"project {project_id} is listed but its document is gone"
        project = Project.model_validate_json(raw)
        assert project.state in ScrumState
        read += 1 + await _check_indexes(store, project_id) + await _check_cycles(store, project_id)
    return read


async def _check_indexes(store: Store, project_id: str) -> int:
    read = 0
    for index, kind, model in _INDEXED:
        for entity_id in await store.redis.zrange(keys.index(project_id, index), 0, -1):
            raw = await store.redis.get(keys.entity(project_id, kind, entity_id))
            assert raw is not None, f"{index} of {project_id} lists {entity_id}, which is gone"
            model.model_validate_json(raw)
            read += 1
    return read


async def _check_cycles(store: Store, project_id: str) -> int:
    read = 0
    pattern = keys.entity(project_id, "cycle", "*")
    async for key in store.redis.scan_iter(match=pattern, count=1_000):
        cycle = TDDCycle.model_validate_json(await store.redis.get(key))
        assert cycle.phase in Phase  # parsing checked these too: a known phase and status
        assert cycle.status in CycleStatus
        read += 1
    return read
