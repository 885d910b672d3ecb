"""Run any command of the table: the one entry point of the API, CLI, Discord and board.

Validate the arguments, check the role, then either read (no lock) or apply the change in one
optimistic transaction: project state check, handler, state transition, timeline event and
idempotency record, all committed together.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from shared.domain.commands import Command, command_names, get_command
from shared.domain.models import Project
from shared.domain.scrum import check_command, check_system_event
from shared.platform.errors import (
    BadRequest,
    Forbidden,
    InvalidTransition,
    NotFound,
    PreconditionFailed,
)
from shared.state import aof, idempotency, keys, timeline
from shared.state.timeline import TimelineEvent
from shared.workflow import decisions, handlers, projects, readers
from shared.workflow.context import (
    Actor,
    CommandContext,
    CommandOutcome,
    CommandRequest,
    Limits,
)

if TYPE_CHECKING:
    from shared.domain.args import CommandArgs
    from shared.state.store import Store, Transaction

__all__ = ["authorize", "execute", "parse_args", "resolve"]


def resolve(name: str) -> Command:
    command = get_command(name)
    if command is None:
        raise NotFound(f"Unknown command {name!r}.", allowed=command_names())
    return command


def parse_args(command: Command, raw: dict[str, Any] | CommandArgs) -> CommandArgs:
    """Validated arguments; a pydantic ValidationError propagates for a 422 with field paths."""
    if isinstance(raw, command.args):
        return raw
    if not isinstance(raw, dict):
        raise BadRequest(f"/{command.name} takes {command.args.__name__} arguments.", field="args")
    return command.args.model_validate(raw)


def authorize(command: Command, actor: Actor) -> None:
    if actor.role < command.role:
        raise Forbidden(
            f"/{command.name} needs the {command.role.name.lower()} role; "
            f"{actor.name} has {actor.role.name.lower()}.",
            required_role=command.role.name.lower(),
        )


async def execute(store: Store, request: CommandRequest, limits: Limits) -> CommandOutcome:
    command = resolve(request.command)
    args = parse_args(command, request.args)
    authorize(command, request.actor)
    if command.scope == "global":
        return await projects.run(store, command, args, request, limits)
    project_id = _require_project_id(request)
    if not command.mutating:
        return await _read(store, command, args, project_id)
    if not decisions.is_decision(command):
        return await store.atomic(
            lambda tx: _apply(tx, command, args, request, project_id, limits),
            queue_on=keys.project(project_id),
        )
    return await _decide(store, command, args, request, project_id, limits)


async def _decide(
    store: Store,
    command: Command,
    args: CommandArgs,
    request: CommandRequest,
    project_id: str,
    limits: Limits,
) -> CommandOutcome:
    """A decision (or its replay) commits with an fsync mark and is answered once WAITAOF
    confirms the append-only file holds it."""
    tokens: list[str] = []

    async def body(tx: Transaction) -> CommandOutcome:
        tokens[:] = [aof.mark(tx, project_id)]
        return await _apply(tx, command, args, request, project_id, limits)

    outcome = await store.atomic(body, queue_on=keys.project(project_id))
    return await decisions.acknowledge(store, outcome, tokens[0], limits.decision_fsync_timeout_ms)


def _require_project_id(request: CommandRequest) -> str:
    if not request.project_id:
        raise BadRequest(f"/{request.command} needs a project; pass its id.", field="project")
    return request.project_id


async def _read(
    store: Store, command: Command, args: CommandArgs, project_id: str
) -> CommandOutcome:
    project = await store.get(Project, keys.project(project_id))
    if project is None:
        raise NotFound(f"Project {project_id} not found. List projects with /project list.")
    _check_state(command, project)
    result = await readers.READERS[command.name](store, project, args)
    state = project.state.value
    return CommandOutcome(command.name, project_id, state, state, project.version, result)


def _check_state(command: Command, project: Project) -> None:
    refusal = check_command(command, project.state)
    if refusal is not None:
        raise InvalidTransition(
            refusal.message, state=refusal.state.value, allowed_commands=list(refusal.allowed)
        )


async def _apply(
    tx: Transaction,
    command: Command,
    args: CommandArgs,
    request: CommandRequest,
    project_id: str,
    limits: Limits,
) -> CommandOutcome:
    project = await tx.get(Project, keys.project(project_id))
    if project is None:
        raise NotFound(f"Project {project_id} not found. List projects with /project list.")
    fingerprint = idempotency.fingerprint(project_id, command.name, args.model_dump(mode="json"))
    if request.idempotency_key:
        stored = await idempotency.recall(tx, project_id, request.idempotency_key, fingerprint)
        if stored is not None:
            return _replayed(stored)
    if request.if_match is not None and request.if_match != project.version:
        raise _stale("project", project_id, project.version, request.if_match)
    if request.entity_match is not None:
        await _check_entity_version(tx, *request.entity_match)
    _check_state(command, project)
    outcome = await _run_handler(tx, command, args, request, project, limits)
    if request.idempotency_key:
        response = idempotency.StoredResponse(
            fingerprint=fingerprint, status_code=outcome.status_code, body=outcome.body()
        )
        idempotency.remember(tx, project_id, request.idempotency_key, response)
    return outcome


async def _check_entity_version(tx: Transaction, key: str, expected: int) -> None:
    raw = await tx.get_raw(key)
    kind, entity_id = key.rsplit(":", 2)[-2:]
    if raw is None:
        raise NotFound(f"{kind.title()} {entity_id} not found; nothing was changed.")
    version = int(json.loads(raw)["version"])
    if version != expected:
        raise _stale(kind, entity_id, version, expected)


def _stale(kind: str, entity_id: str, version: int, expected: int) -> PreconditionFailed:
    """412 for an If-Match naming another version; `expected` < 0: it named none readable."""
    if expected < 0:
        message = (
            f"If-Match names no version of {kind} {entity_id}: send the ETag a GET answered, "
            f'e.g. "{version}", or * for any.'
        )
    else:
        message = (
            f"{kind.title()} {entity_id} changed: version is {version}, not {expected}. "
            "Reload it and retry."
        )
    return PreconditionFailed(message, current_version=version)


async def _run_handler(
    tx: Transaction,
    command: Command,
    args: CommandArgs,
    request: CommandRequest,
    project: Project,
    limits: Limits,
) -> CommandOutcome:
    ctx = CommandContext(tx=tx, project=project, actor=request.actor, limits=limits)
    result = await handlers.HANDLERS[command.name](ctx, args)
    from_state = project.state
    to_state = command.result_state(from_state)
    if ctx.follow_up is not None:
        to_state = check_system_event(ctx.follow_up, to_state) or to_state
    updated = ctx.project.touched(state=to_state, last_command=command.name)
    stored = tx.put(keys.project(project.id), updated)
    event = TimelineEvent(
        actor=request.actor.name,
        command=command.name,
        from_state=from_state.value,
        to_state=to_state.value,
        version=stored.version,
        payload={"args": args.model_dump(mode="json", exclude_defaults=True), "result": result},
    )
    for extra in [event, *ctx.extra_events]:
        timeline.append(tx, project.id, extra)
    status = 201 if result.get("created") else 200
    return CommandOutcome(
        command.name,
        project.id,
        from_state.value,
        to_state.value,
        stored.version,
        result,
        status,
        jobs=tuple(ctx.jobs),
    )


def _replayed(stored: idempotency.StoredResponse) -> CommandOutcome:
    body = stored.body
    return CommandOutcome(
        command=body["command"],
        project_id=body["project_id"],
        from_state=body["from_state"],
        to_state=body["to_state"],
        project_version=body["project_version"],
        result=body["result"],
        status_code=stored.status_code,
        replayed=True,
    )
