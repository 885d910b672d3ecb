"""Epics of a project."""

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
from services.api.routes.commands import EpicId, ProjectId
from services.api.routes.projects import Cursor, Limit
from services.api.schemas import CommandResponse, ItemPage
from shared.domain.args import EpicArgs
from shared.domain.models import Epic

__all__ = ["router"]

router = APIRouter(prefix="/projects/{project_id}/epics", tags=["epics"], responses=errors(404))


@router.get("", response_model=ItemPage[Epic], summary="Epics, newest first")
async def list_epics(
    project_id: ProjectId, store: StoreDep, _: Viewer, limit: Limit = 50, cursor: Cursor = None
) -> Any:
    return await list_page(store, Epic, project_id, "epics", "epic", cursor, limit, True)


@router.post(
    "",
    response_model=CommandResponse,
    status_code=201,
    summary="Create an epic (the /epic command)",
    responses=errors(409, 412, 415),
)
async def create_epic(
    project_id: ProjectId,
    body: EpicArgs,
    actor: Member,
    commands: CommandsDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONResponse:
    return await commands.run(
        actor,
        "epic",
        body,
        project_id=project_id,
        idempotency_key=idempotency_key,
        if_match=parse_if_match(if_match),
    )


@router.get(
    "/{epic_id}",
    response_model=Epic,
    summary="One epic (ETag = version)",
    openapi_extra=VIEWER_INLINE,
)
async def get_epic(project_id: ProjectId, epic_id: EpicId, request: Request) -> Response:
    return await get_document(viewed_store(request), project_id, "epic", epic_id)
