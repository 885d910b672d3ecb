"""Projects: register, list, read, state, start/stop, and the cross-project views."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from services.api.deps import (
    VIEWER_INLINE,
    Admin,
    CommandsDep,
    IdempotencyKey,
    StoreDep,
    Viewer,
    viewed_store,
)
from services.api.reading import get_project
from services.api.responses import errors
from services.api.routes.commands import ProjectId
from services.api.schemas import CommandResponse, ItemPage
from shared.domain.args import NoArgs, ProjectIdArgs, ProjectListArgs, ProjectRegisterArgs
from shared.domain.models import Project
from shared.workflow.projects import list_projects

__all__ = ["Cursor", "Limit", "router"]

router = APIRouter(prefix="/projects", tags=["projects"])
Limit = Annotated[int, Query(ge=1, le=500, description="Page size")]
Cursor = Annotated[str | None, Query(max_length=200, description="`next_cursor` of the last page")]


@router.get("", response_model=ItemPage[Project], summary="List projects")
async def list_all(store: StoreDep, _: Viewer, limit: Limit = 50, cursor: Cursor = None) -> Any:
    page = await list_projects(store, cursor, limit)
    return {"items": page["projects"], "next_cursor": page["next_cursor"], "total": page["total"]}


@router.post(
    "",
    response_model=CommandResponse,
    status_code=201,
    summary="Register a project",
    responses=errors(409, 415, why={409: "The project id is taken"}),
)
async def register(
    body: ProjectRegisterArgs,
    actor: Admin,
    commands: CommandsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await commands.run(actor, "project register", body, idempotency_key=idempotency_key)


@router.get(
    "/{project_id}",
    response_model=Project,
    summary="One project (ETag = version)",
    responses=errors(404),
    openapi_extra=VIEWER_INLINE,
)
async def get_one(project_id: ProjectId, request: Request) -> Response:
    return await get_project(viewed_store(request), project_id)


@router.get(
    "/{project_id}/state",
    response_model=CommandResponse,
    summary="State, allowed commands, pending approvals and the sprint",
    responses=errors(404),
)
async def state(project_id: ProjectId, actor: Viewer, commands: CommandsDep) -> JSONResponse:
    return await commands.run(actor, "state", NoArgs(), project_id=project_id)


@router.post(
    "/{project_id}/start",
    response_model=CommandResponse,
    summary="Let agents work on the project",
    responses=errors(404, 409, why={409: "orchestrator.max_concurrent_projects reached"}),
)
async def start(
    project_id: ProjectId,
    actor: Admin,
    commands: CommandsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await commands.run(
        actor,
        "project start",
        ProjectIdArgs(project=project_id),
        idempotency_key=idempotency_key,
    )


@router.post(
    "/{project_id}/stop",
    response_model=CommandResponse,
    summary="Stop agent work",
    responses=errors(404),
)
async def stop(
    project_id: ProjectId,
    actor: Admin,
    commands: CommandsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    return await commands.run(
        actor,
        "project stop",
        ProjectIdArgs(project=project_id),
        idempotency_key=idempotency_key,
    )


status_router = APIRouter(tags=["projects"])


@status_router.get("/status", response_model=CommandResponse, summary="Every project at a glance")
async def global_status(
    actor: Viewer, commands: CommandsDep, limit: Limit = 50, cursor: Cursor = None
) -> JSONResponse:
    args = ProjectListArgs(limit=limit, cursor=cursor)
    return await commands.run(actor, "global status", args)


@status_router.get(
    "/resources",
    response_model=CommandResponse,
    summary="Active projects against the limit, queued work",
)
async def resources(actor: Viewer, commands: CommandsDep) -> JSONResponse:
    return await commands.run(actor, "resource status", NoArgs())
