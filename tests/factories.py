"""Plain helpers that build workflow data through the real commands and system events.

Nothing here writes Redis directly: every project is walked into its state by `execute`,
`block_story` and `complete_story`, exactly as users and workers would.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from shared.domain.commands import Role
from shared.domain.models import Project, ScrumState
from shared.state import keys, timeline
from shared.workflow.context import Actor, CommandOutcome, CommandRequest, Limits
from shared.workflow.executor import execute
from shared.workflow.system import block_story, complete_story

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from shared.state.store import Store
    from shared.state.timeline import TimelineEvent

__all__ = [
    "ADMIN",
    "APPROVER",
    "LIMITS",
    "MEMBER",
    "VIEWER",
    "backlog_ids",
    "dump_keys",
    "dump_project",
    "get_project",
    "make_project_in_state",
    "new_project_id",
    "proposed_ids",
    "register_project",
    "run",
    "sprint_story_ids",
    "timeline_events",
    "timeline_length",
]

ADMIN = Actor("alice", Role.ADMIN)
APPROVER = Actor("paula", Role.APPROVER)
MEMBER = Actor("mark", Role.MEMBER)
VIEWER = Actor("vera", Role.VIEWER)
LIMITS = Limits(max_concurrent_projects=1_000)


def new_project_id() -> str:
    return f"p-{secrets.token_hex(4)}"


async def run(
    store: Store,
    command: str,
    args: dict[str, Any] | None = None,
    *,
    project_id: str | None = None,
    actor: Actor = ADMIN,
    limits: Limits = LIMITS,
    idempotency_key: str | None = None,
    if_match: int | None = None,
) -> CommandOutcome:
    """`execute` with defaults suited to tests (an admin, a generous project limit)."""
    request = CommandRequest(
        command, args or {}, actor, project_id, idempotency_key=idempotency_key, if_match=if_match
    )
    return await execute(store, request, limits)


async def register_project(
    store: Store,
    project_id: str | None = None,
    *,
    start: bool = True,
    limits: Limits = LIMITS,
) -> str:
    pid = project_id or new_project_id()
    await run(store, "project register", {"repo_url": f"/srv/git/{pid}.git", "id": pid})
    if start:
        await run(store, "project start", {"project": pid}, limits=limits)
    return pid


async def make_project_in_state(
    store: Store, state: ScrumState, *, project_id: str | None = None, limits: Limits = LIMITS
) -> str:
    """A started project in `state`, reached through real commands and system events.

    Whatever the state, the project has two plain backlog stories (added in IDLE). From
    BACKLOG_READY on it also has an epic with three proposed stories, of which the first two
    were approved and the third is still pending; from SPRINT_PLANNED on, the two approved
    stories form the current sprint. BLOCKED blocks the first sprint story; SPRINT_REVIEW
    completes both.
    """
    pid = await register_project(store, project_id, limits=limits)
    for title in ("Plain story one", "Plain story two"):
        await run(store, "backlog add_story", {"title": title}, project_id=pid)
    if state is ScrumState.IDLE:
        return pid
    proposals = [{"title": f"Proposed story {n}"} for n in (1, 2, 3)]
    epic = await run(
        store, "epic", {"description": "An epic", "stories": proposals}, project_id=pid
    )
    proposed: list[str] = epic.result["proposed_story_ids"]
    await run(store, "approve", {"ids": proposed[:2]}, project_id=pid, actor=APPROVER)
    if state is ScrumState.BACKLOG_READY:
        return pid
    await run(store, "sprint plan", {"story_ids": proposed[:2], "goal": "goal"}, project_id=pid)
    if state is ScrumState.SPRINT_PLANNED:
        return pid
    await run(store, "sprint start", project_id=pid)
    if state is ScrumState.SPRINT_ACTIVE:
        return pid
    if state is ScrumState.SPRINT_PAUSED:
        await run(store, "sprint pause", project_id=pid)
    elif state is ScrumState.BLOCKED:
        await block_story(store, pid, proposed[0], "three CI failures in a row")
    else:
        for story_id in proposed[:2]:
            await complete_story(store, pid, story_id)
    project = await get_project(store, pid)
    assert project.state is state, (project.state, state)
    return pid


async def get_project(store: Store, project_id: str) -> Project:
    project = await store.get(Project, keys.project(project_id))
    assert project is not None, f"project {project_id} does not exist"
    return project


async def backlog_ids(store: Store, project_id: str) -> list[str]:
    """Story ids of the backlog index, in priority order."""
    return list(await store.redis.zrange(keys.index(project_id, "backlog"), 0, -1))


async def proposed_ids(store: Store, project_id: str) -> list[str]:
    return list(await store.redis.zrange(keys.index(project_id, "proposed"), 0, -1))


async def sprint_story_ids(store: Store, project_id: str) -> list[str]:
    from shared.domain.models import Sprint

    project = await get_project(store, project_id)
    assert project.active_sprint_id is not None
    sprint = await store.get(Sprint, keys.entity(project_id, "sprint", project.active_sprint_id))
    assert sprint is not None
    return list(sprint.story_ids)


async def timeline_length(store: Store, project_id: str) -> int:
    return int(await store.redis.xlen(keys.timeline(project_id)))


async def timeline_events(store: Store, project_id: str) -> list[TimelineEvent]:
    return await timeline.read(store.redis, project_id, limit=100_000)


async def dump_keys(redis: Redis, pattern: str) -> dict[str, tuple[str, Any]]:
    """Every key matching `pattern` with its type and full value (and TTL presence)."""
    dump: dict[str, tuple[str, Any]] = {}
    async for key in redis.scan_iter(match=pattern, count=1_000):
        dump[key] = await _dump_one(redis, key)
    return dump


async def dump_project(redis: Redis, project_id: str) -> dict[str, tuple[str, Any]]:
    """Every key of one project (`SCAN awf:{pid}:*`) plus the global project keys."""
    dump = await dump_keys(redis, f"{keys.project_prefix(project_id)}:*")
    for key in (keys.PROJECTS, keys.ACTIVE_PROJECTS):
        dump[key] = await _dump_one(redis, key)
    return dump


async def _dump_one(redis: Redis, key: str) -> tuple[str, Any]:
    kind: str = await redis.type(key)
    value: Any
    if kind == "string":
        value = await redis.get(key)
    elif kind == "zset":
        value = await redis.zrange(key, 0, -1, withscores=True)
    elif kind == "set":
        value = sorted(await redis.smembers(key))  # type: ignore[misc]
    elif kind == "hash":
        value = await redis.hgetall(key)  # type: ignore[misc]
    elif kind == "list":
        value = await redis.lrange(key, 0, -1)  # type: ignore[misc]
    elif kind == "stream":
        value = await redis.xrange(key)
    else:
        value = None
    has_ttl = await redis.ttl(key) >= 0
    return kind, (value, has_ttl)
