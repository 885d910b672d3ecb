"""The command table, and the generic endpoints that run any command of it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from fastapi import APIRouter, Body, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model

from services.api.deps import CommandsDep, IdempotencyKey, IfMatch, Viewer, parse_if_match
from services.api.responses import CREATED, errors
from services.api.schemas import CommandInfo, CommandResponse, CommandTable
from shared.domain.args import ENTITY_ID_PATTERN
from shared.domain.commands import COMMANDS, Command, Scope

__all__ = ["ApprovalId", "EpicId", "ProjectId", "SprintId", "StoryId", "router"]

router = APIRouter(tags=["commands"])
ProjectId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$", description="Project id")]
# Ids of a project's documents in paths: a malformed one is refused naming the path parameter.
StoryId = Annotated[str, Path(pattern=ENTITY_ID_PATTERN, description="Story id: story-1a2b3c4d")]
EpicId = Annotated[str, Path(pattern=ENTITY_ID_PATTERN, description="Epic id: epic-1a2b3c4d")]
SprintId = Annotated[str, Path(pattern=ENTITY_ID_PATTERN, description="Sprint id: sprint-1a2b3c4d")]
ApprovalId = Annotated[
    str, Path(pattern=ENTITY_ID_PATTERN, description="Approval (or proposed story) id")
]


def _body_model(command: Command) -> type[BaseModel]:
    name = "".join(p.title() for p in command.name.replace("_", " ").split()) + "Command"
    return create_model(
        name,
        __config__=ConfigDict(extra="forbid"),
        command=(Literal[command.name], Field(description=command.help)),  # type: ignore[arg-type]
        args=(command.args, _args_default(command)),
    )


def _args_default(command: Command) -> Any:
    """`args` may be left out only when every argument has a default."""
    if any(f.is_required() for f in command.args.model_fields.values()):
        return Field(description=f"{command.args.__name__}; required")
    return Field(default_factory=command.args)


def _union(scope: Scope) -> Any:
    models = tuple(_body_model(c) for c in COMMANDS.values() if c.scope == scope)
    return Annotated[Union[models], Field(discriminator="command")]  # noqa: UP007


if TYPE_CHECKING:  # built at import time from the table; opaque to the type checker
    ProjectCommand = Any
    GlobalCommand = Any
else:
    ProjectCommand = _union("project")
    GlobalCommand = _union("global")


def _info(command: Command) -> CommandInfo:
    return CommandInfo(
        name=command.name,
        help=command.help,
        scope=command.scope,
        role=command.role.name.lower(),
        mutating=command.mutating,
        allowed_from=sorted(s.value for s in command.allowed_from),
        transitions={a.value: b.value for a, b in command.transitions.items()},
        args_schema=command.args.model_json_schema(),
    )


@router.get("/commands", response_model=CommandTable, summary="The command table")
async def list_commands(_: Viewer) -> CommandTable:
    return CommandTable(commands=[_info(c) for c in COMMANDS.values()])


@router.post(
    "/commands",
    response_model=CommandResponse,
    summary="Run a global command",
    responses=CREATED | errors(404, 409, 415),
)
async def run_global(
    body: Annotated[GlobalCommand, Body()],
    actor: Viewer,
    commands: CommandsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await commands.run(actor, body.command, body.args, idempotency_key=idempotency_key)


@router.post(
    "/projects/{project_id}/commands",
    response_model=CommandResponse,
    summary="Run a project command",
    responses=CREATED | errors(404, 409, 412, 415, 503),
)
async def run_project(
    project_id: ProjectId,
    body: Annotated[ProjectCommand, Body()],
    actor: Viewer,
    commands: CommandsDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONResponse:
    return await commands.run(
        actor,
        body.command,
        body.args,
        project_id=project_id,
        idempotency_key=idempotency_key,
        if_match=parse_if_match(if_match),
    )
