"""Multi-project commands: register, bind a channel, list, start, stop, global and resource status."""

from __future__ import annotations

import re
import time
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, cast

from shared.domain.args import (
    ProjectBindChannelArgs,
    ProjectIdArgs,
    ProjectListArgs,
    ProjectRegisterArgs,
)
from shared.domain.models import Project, ProjectMode, ProjectPriority, ProjectStatus
from shared.platform.errors import AlreadyExists, BadRequest, CapacityExceeded, NotFound
from shared.state import capacity, keys
from shared.workflow import channels
from shared.workflow.project_change import change_project, project_outcome
from shared.workflow.queries import decode_cursor, encode_cursor

if TYPE_CHECKING:
    from shared.domain.args import CommandArgs
    from shared.domain.commands import Command
    from shared.state.store import Store, Transaction
    from shared.workflow.context import CommandOutcome, CommandRequest, Limits

__all__ = ["list_projects", "run"]


async def run(
    store: Store, command: Command, args: CommandArgs, request: CommandRequest, limits: Limits
) -> CommandOutcome:
    name = command.name
    if name == "project register":
        return await _register(store, cast(ProjectRegisterArgs, args), request, limits)
    if name == "project bind_channel":
        return await channels.bind(store, cast(ProjectBindChannelArgs, args), request)
    if name in ("project start", "project stop"):
        project_id = cast(ProjectIdArgs, args).project
        return await _start_stop(store, name, project_id, request, limits)
    if name == "resource status":
        return project_outcome(name, await _resources(store, limits))
    listing_args = cast(ProjectListArgs, args)
    listing = await list_projects(store, listing_args.cursor, listing_args.limit)
    if name == "global status":
        listing["projects"] = [_status_line(p) for p in listing["projects"]]
    return project_outcome(name, listing)


async def list_projects(store: Store, cursor: str | None, limit: int) -> dict[str, Any]:
    offset = decode_cursor(cursor)
    total = await store.redis.zcard(keys.PROJECTS)
    ids = await store.redis.zrange(keys.PROJECTS, offset, offset + limit - 1)
    docs = [await store.get(Project, keys.project(i)) for i in ids]
    more = offset + limit < total
    return {
        "projects": [d.model_dump(mode="json") for d in docs if d is not None],
        "next_cursor": encode_cursor(offset + limit) if more else None,
        "total": total,
    }


def _status_line(project: dict[str, Any]) -> dict[str, Any]:
    fields = ("id", "name", "status", "state", "active_sprint_id", "blocked_story_id", "priority")
    return {k: project[k] for k in fields}


async def _resources(store: Store, limits: Limits) -> dict[str, Any]:
    active = await capacity.active_projects(store.redis)
    queued = await store.redis.zcard(keys.ARQ_QUEUE)
    return {
        "active_projects": active,
        "active_count": len(active),
        "max_concurrent_projects": limits.max_concurrent_projects,
        "queued_jobs": queued,
    }


async def _register(
    store: Store, args: ProjectRegisterArgs, request: CommandRequest, limits: Limits
) -> CommandOutcome:
    name = args.name or _repo_name(args.repo_url)
    project_id = args.id or _slug(name)
    project = Project(
        id=project_id,
        name=name,
        repo_url=args.repo_url,
        default_branch=args.default_branch,
        test_command=args.test_command,
        mode=ProjectMode(args.mode) if args.mode else limits.default_mode,
        priority=ProjectPriority(args.priority),
        owner=request.actor.name,
    )

    async def create(tx: Transaction, current: Project | None) -> tuple[Project, dict[str, Any]]:
        if current is not None:
            raise AlreadyExists(
                f"Project id {project_id!r} is taken; pass another --id.", project_id=project_id
            )
        listed_at = time.time()  # in the same MULTI: a registered project is always listed
        tx.call(lambda p: p.zadd(keys.PROJECTS, {project_id: listed_at}, nx=True))
        return project, {"created": True, "project_id": project_id}

    return await change_project(store, "project register", project_id, args, request, create)


async def _start_stop(
    store: Store, name: str, project_id: str, request: CommandRequest, limits: Limits
) -> CommandOutcome:
    starting = name == "project start"
    status = ProjectStatus.ACTIVE if starting else ProjectStatus.STOPPED

    async def switch(tx: Transaction, current: Project | None) -> tuple[Project, dict[str, Any]]:
        if current is None:
            raise NotFound(f"Project {project_id} not found. List projects with /project list.")
        await tx.watch(keys.ACTIVE_PROJECTS)
        if starting:
            await _reserve(tx, project_id, limits)
        else:
            tx.call(lambda p: p.srem(keys.ACTIVE_PROJECTS, project_id))
        return current.touched(status=status), {"project_id": project_id, "status": status.value}

    args = ProjectIdArgs(project=project_id)
    return await change_project(store, name, project_id, args, request, switch)


async def _reserve(tx: Transaction, project_id: str, limits: Limits) -> None:
    """Take a slot in the same MULTI as the status change; the set is watched."""
    active: set[str] = await tx.reader.smembers(keys.ACTIVE_PROJECTS)  # type: ignore[misc]
    if project_id in active:
        return
    if len(active) >= limits.max_concurrent_projects:
        raise CapacityExceeded(
            f"{len(active)} of {limits.max_concurrent_projects} projects are already active "
            "(orchestrator.max_concurrent_projects); stop one with /project stop first.",
            active_projects=sorted(active),
        )
    tx.call(lambda p: p.sadd(keys.ACTIVE_PROJECTS, project_id))


def _repo_name(repo_url: str) -> str:
    name = PurePosixPath(repo_url.rstrip("/")).name.removesuffix(".git")
    if not name:
        raise BadRequest("Cannot derive a project name from repo_url; pass a name.", field="name")
    return name


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40].strip("-")
    if not slug:
        raise BadRequest(f"Cannot derive a project id from {name!r}; pass an id.", field="id")
    return slug
