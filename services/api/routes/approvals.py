"""Approvals: what waits for a human, and deciding one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from services.api.deps import (
    VIEWER_INLINE,
    Approver,
    CommandsDep,
    IdempotencyKey,
    StoreDep,
    Viewer,
    viewed_store,
)
from services.api.reading import get_document, list_page
from services.api.responses import errors
from services.api.routes.commands import ApprovalId, ProjectId
from services.api.routes.projects import Cursor, Limit
from services.api.schemas import CommandResponse, DecisionBody, ItemPage
from shared.domain.args import ApproveArgs, RejectArgs
from shared.domain.models import Approval
from shared.state.keys import IndexKind

__all__ = ["router"]

router = APIRouter(
    prefix="/projects/{project_id}/approvals", tags=["approvals"], responses=errors(404)
)


@router.get("", response_model=ItemPage[Approval], summary="Approvals, pending or all")
async def list_approvals(
    project_id: ProjectId,
    store: StoreDep,
    _: Viewer,
    status: Annotated[Literal["pending", "all"], Query()] = "pending",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    index: IndexKind = "approvals:pending" if status == "pending" else "approvals"
    return await list_page(store, Approval, project_id, index, "approval", cursor, limit)


@router.get(
    "/{approval_id}",
    response_model=Approval,
    summary="One approval (ETag = version)",
    openapi_extra=VIEWER_INLINE,
)
async def get_approval(
    project_id: ProjectId, approval_id: ApprovalId, request: Request
) -> Response:
    return await get_document(viewed_store(request), project_id, "approval", approval_id)


@router.post(
    "/{approval_id}/approve",
    response_model=CommandResponse,
    summary="Approve a proposed story (/approve); exactly once with Idempotency-Key",
    responses=errors(409, 503),
)
async def approve(
    project_id: ProjectId,
    approval_id: ApprovalId,
    actor: Approver,
    commands: CommandsDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    args = ApproveArgs.model_validate({"ids": [approval_id]})
    return await commands.run(
        actor,
        "approve",
        args,
        project_id=project_id,
        idempotency_key=idempotency_key,
    )


@router.post(
    "/{approval_id}/reject",
    response_model=CommandResponse,
    summary="Reject a proposed story (/reject)",
    responses=errors(409, 415, 503),
)
async def reject(
    project_id: ProjectId,
    approval_id: ApprovalId,
    actor: Approver,
    commands: CommandsDep,
    body: DecisionBody | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    reason = body.reason if body else ""
    args = RejectArgs.model_validate({"ids": [approval_id], "reason": reason})
    return await commands.run(
        actor, "reject", args, project_id=project_id, idempotency_key=idempotency_key
    )
