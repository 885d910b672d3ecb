"""Transaction helpers shared by the handlers: load or fail, ordering, scores."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from shared.domain.models import Entity, Project, Story
from shared.platform.errors import NotFound
from shared.state import keys

if TYPE_CHECKING:
    from shared.state.store import Store, Transaction

__all__ = [
    "PRIORITY_BY_NAME",
    "backlog_score",
    "load_project",
    "next_sequence",
    "require",
    "require_story",
    "top_score",
]

E = TypeVar("E", bound=Entity)
PRIORITY_BY_NAME = {"top": 1, "high": 2, "medium": 3, "low": 5}
_BAND = 10**12


def backlog_score(priority: int, sequence: int) -> float:
    """Priority first (1 before 5), then arrival order."""
    return float(priority * _BAND + sequence)


def top_score(sequence: int) -> float:
    """Ahead of every priority-1 story; the latest `top` comes first."""
    return float(_BAND - sequence)


async def next_sequence(tx: Transaction, project_id: str) -> int:
    # Runs at once, outside MULTI: a retried transaction leaves a gap, which is harmless.
    # The pipeline only runs commands at once once it watches something: the project doc,
    # which every project transaction watches anyway.
    await tx.watch(keys.project(project_id))
    return int(await tx.reader.incr(keys.sequence(project_id)))


async def require(tx: Transaction, model: type[E], key: str, what: str) -> E:
    doc = await tx.get(model, key)
    if doc is None:
        raise NotFound(f"{what} not found.")
    return doc


async def require_story(tx: Transaction, project_id: str, story_id: str) -> Story:
    key = keys.entity(project_id, "story", story_id)
    return await require(tx, Story, key, f"Story {story_id} in project {project_id}")


async def load_project(store: Store, project_id: str) -> Project:
    project = await store.get(Project, keys.project(project_id))
    if project is None:
        raise NotFound(f"Project {project_id} not found. List projects with /project list.")
    return project
