"""The data a fuzz run starts from: one project in each Scrum state, walked there through the real
commands and system events, plus TDD cycles in the running sprints; and the ids it holds, so
generated requests can name real projects, stories, epics, sprints and approvals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared.domain.args import ENTITY_ID_PATTERN
from shared.domain.models import ScrumState
from shared.state import keys
from shared.workflow import cycles
from tests.factories import make_project_in_state, run, sprint_story_ids
from tests.integration.tdd_helpers import cycle_of

if TYPE_CHECKING:
    from shared.state.keys import IndexKind
    from shared.state.store import Store

__all__ = ["ENTITY_ID", "World", "seed_world"]

ENTITY_ID = re.compile(ENTITY_ID_PATTERN)
_INDEXES: dict[str, IndexKind] = {
    "story": "stories",
    "epic": "epics",
    "sprint": "sprints",
    "approval": "approvals",
}


@dataclass(frozen=True)
class World:
    """Project ids, and per project the ids of its documents by kind (story, epic, ...)."""

    projects: tuple[str, ...]
    ids: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)

    def of(self, project_id: str, kind: str) -> tuple[str, ...]:
        return self.ids.get(project_id, {}).get(kind, ())


def project_id_for(state: ScrumState) -> str:
    return "fz-" + state.value.lower().replace("_", "-")


async def seed_world(store: Store) -> World:
    """One project per Scrum state (see `make_project_in_state`); in the running and the paused
    sprint every story has a TDD cycle, the first of them taken by a (pretend) worker."""
    projects = [
        await make_project_in_state(store, state, project_id=project_id_for(state))
        for state in ScrumState
    ]
    for state in (ScrumState.SPRINT_ACTIVE, ScrumState.SPRINT_PAUSED):
        await _start_cycles(
            store, project_id_for(state), take_first=state is ScrumState.SPRINT_ACTIVE
        )
    ids = {
        pid: {kind: await _ids(store, pid, index) for kind, index in _INDEXES.items()}
        for pid in projects
    }
    return World(tuple(projects), ids)


async def _start_cycles(store: Store, project_id: str, *, take_first: bool) -> None:
    story_ids = await sprint_story_ids(store, project_id)
    for story_id in story_ids:
        await run(store, "tdd start", {"story_id": story_id}, project_id=project_id)
    if take_first:
        first = await cycle_of(store, project_id, story_ids[0])
        assert await cycles.take(store, project_id, first.id, first.run) is not None


async def _ids(store: Store, project_id: str, index: IndexKind) -> tuple[str, ...]:
    return tuple(await store.redis.zrange(keys.index(project_id, index), 0, -1))
