"""Every Redis key name of the product. No key literal lives anywhere else.

Keys of one project share the hash tag `{<project_id>}` so a project's transaction touches one
slot and the store can move to Redis Cluster unchanged. Only the project index, the active set
and arq's own keys are global.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "ACTIVE_PROJECTS",
    "AGENT_SLOTS",
    "ARQ_QUEUE",
    "IDEMPOTENCY_TTL_S",
    "JOB_CLAIM_TTL_S",
    "PROJECTS",
    "WORKERS",
    "EntityKind",
    "IndexKind",
    "entity",
    "fence",
    "idempotency",
    "index",
    "job_claim",
    "project",
    "project_prefix",
    "sequence",
    "slots",
    "timeline",
]

PREFIX = "awf"
PROJECTS = f"{PREFIX}:projects"
ACTIVE_PROJECTS = f"{PREFIX}:projects:active"
IDEMPOTENCY_TTL_S = 24 * 3600
ARQ_QUEUE = "arq:queue"  # arq's default queue, a sorted set of job ids

AGENT_SLOTS = f"{PREFIX}:agents:slots"  # global semaphore of running agent phases
JOB_CLAIM_TTL_S = 7 * 24 * 3600
WORKERS = f"{PREFIX}:workers"  # sorted set: worker id -> last heartbeat (ms)

EntityKind = Literal["epic", "story", "sprint", "approval", "task", "cycle"]
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


def job_claim(project_id: str, job_id: str) -> str:
    """SET NX guard so a deterministic job id is enqueued once, even after arq forgets it."""
    return f"{project_prefix(project_id)}:job:{job_id}"


def slots(project_id: str) -> str:
    """Sorted set semaphore: cycle id -> lease expiry (ms) of the project's running phases."""
    return f"{project_prefix(project_id)}:slots"


def fence(project_id: str) -> str:
    """Counter handing out fencing tokens to the jobs that take a cycle."""
    return f"{project_prefix(project_id)}:fence"


def idempotency(project_id: str, digest: str) -> str:
    return f"{project_prefix(project_id)}:idem:{digest}"
