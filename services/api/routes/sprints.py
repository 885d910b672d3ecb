"""Sprints: planning, the current sprint and past ones."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from services.api.deps import (
    VIEWER_INLINE,
    CommandsDep,
    IdempotencyKey,
    IfMatch,
    Member,
    StoreDep,
    Viewer,
    parse_if_match,
    viewed_store,
)
from services.api.reading import get_document, list_page
from services.api.responses import errors
from services.api.routes.commands import ProjectId, SprintId
from services.api.routes.projects import Cursor, Limit
from services.api.schemas import CommandResponse, ItemPage
from shared.domain.args import SprintPlanArgs
from shared.domain.models import Sprint
from shared.platform.errors import NotFound
from shared.workflow.repo import load_project

__all__ = ["router"]

router = APIRouter(prefix="/projects/{project_id}/sprints", tags=["sprints"], responses=errors(404))


@router.get("", response_model=ItemPage[Sprint], summary="Sprints, newest first")
async def list_sprints(
    project_id: ProjectId, store: StoreDep, _: Viewer, limit: Limit = 50, cursor: Cursor = None
) -> Any:
    return await list_page(store, Sprint, project_id, "sprints", "sprint", cursor, limit, True)


@router.post(
    "",
    response_model=CommandResponse,
    status_code=201,
    summary="Plan a sprint (/sprint plan)",
    responses=errors(409, 412, 415),
)
async def plan(
    project_id: ProjectId,
    body: SprintPlanArgs,
    actor: Member,
    commands: CommandsDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONResponse:
    return await commands.run(
        actor,
        "sprint plan",
        body,
        project_id=project_id,
        idempotency_key=idempotency_key,
        if_match=parse_if_match(if_match),
    )


@router.get(
    "/current",
    response_model=Sprint,
    summary="The planned or running sprint",
    openapi_extra=VIEWER_INLINE,
)
async def current(project_id: ProjectId, request: Request) -> Response:
    store = viewed_store(request)
    project = await load_project(store, project_id)
    if not project.active_sprint_id:
        raise NotFound(f"Project {project_id} has no current sprint; plan one with /sprint plan.")
    return await get_document(store, project_id, "sprint", project.active_sprint_id)


@router.get(
    "/{sprint_id}",
    response_model=Sprint,
    summary="One sprint (ETag = version)",
    openapi_extra=VIEWER_INLINE,
)
async def get_sprint(project_id: ProjectId, sprint_id: SprintId, request: Request) -> Response:
    return await get_document(viewed_store(request), project_id, "sprint", sprint_id)
