"""Every Redis key name of the product. No key literal lives anywhere else.

Keys of one project share the hash tag `{<project_id>}` so a project's transaction touches one
slot and the store can move to Redis Cluster unchanged. Only the project index, the active set
and arq's own keys are global.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "ACTIVE_PROJECTS",
    "ARQ_QUEUE",
    "IDEMPOTENCY_TTL_S",
    "PROJECTS",
    "EntityKind",
    "IndexKind",
    "entity",
    "idempotency",
    "index",
    "project",
    "project_prefix",
    "sequence",
    "timeline",
]

PREFIX = "awf"
PROJECTS = f"{PREFIX}:projects"
ACTIVE_PROJECTS = f"{PREFIX}:projects:active"
IDEMPOTENCY_TTL_S = 24 * 3600
ARQ_QUEUE = "arq:queue"  # arq's default queue, a sorted set of job ids

EntityKind = Literal["epic", "story", "sprint", "approval", "task"]
IndexKind = Literal[
    "backlog",  # stories in status backlog, scored by priority then arrival
    "proposed",  # stories waiting for /approve, by arrival
    "stories",  # every story, by arrival
    "epics",
    "sprints",
    "approvals",
    "approvals:pending",
]


def project_prefix(project_id: str) -> str:
    return f"{PREFIX}:{{{project_id}}}"


def project(project_id: str) -> str:
    """The project document, whose version guards every workflow transition."""
    return f"{project_prefix(project_id)}:project"


def entity(project_id: str, kind: EntityKind, entity_id: str) -> str:
    return f"{project_prefix(project_id)}:{kind}:{entity_id}"


def index(project_id: str, kind: IndexKind) -> str:
    return f"{project_prefix(project_id)}:idx:{kind}"


def sequence(project_id: str) -> str:
    """A counter giving every new entity of the project its arrival order."""
    return f"{project_prefix(project_id)}:seq"


def timeline(project_id: str) -> str:
    """Append-only stream of every change: actor, command, from -> to, payload."""
    return f"{project_prefix(project_id)}:timeline"


def idempotency(project_id: str, digest: str) -> str:
    return f"{project_prefix(project_id)}:idem:{digest}"
