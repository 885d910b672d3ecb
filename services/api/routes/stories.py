"""Stories: the backlog in priority order, proposals, and edits of one story."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from services.api.commanding import etag
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
from services.api.routes.commands import ProjectId, StoryId
from services.api.routes.projects import Cursor, Limit
from services.api.schemas import CommandResponse, ItemPage, PriorityBody
from shared.domain.args import BacklogAddStoryArgs, BacklogPrioritizeArgs, BacklogRemoveArgs
from shared.domain.models import Story
from shared.state import keys
from shared.state.keys import IndexKind

__all__ = ["router"]

router = APIRouter(prefix="/projects/{project_id}/stories", tags=["stories"], responses=errors(404))
_INDEX: dict[str, IndexKind] = {"backlog": "backlog", "proposed": "proposed", "all": "stories"}


@router.get(
    "",
    response_model=ItemPage[Story],
    summary="Stories: the backlog in priority order, proposals, or all by arrival",
)
async def list_stories(
    project_id: ProjectId,
    store: StoreDep,
    _: Viewer,
    status: Annotated[Literal["backlog", "proposed", "all"], Query()] = "backlog",
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Any:
    return await list_page(store, Story, project_id, _INDEX[status], "story", cursor, limit)


@router.post(
    "",
    response_model=CommandResponse,
    status_code=201,
    summary="Add a story to the backlog (/backlog add_story)",
    responses=errors(409, 412, 415),
)
async def add_story(
    project_id: ProjectId,
    body: BacklogAddStoryArgs,
    actor: Member,
    commands: CommandsDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONResponse:
    return await commands.run(
        actor,
        "backlog add_story",
        body,
        project_id=project_id,
        idempotency_key=idempotency_key,
        if_match=parse_if_match(if_match),
    )


@router.get(
    "/{story_id}",
    response_model=Story,
    summary="One story (ETag = version)",
    openapi_extra=VIEWER_INLINE,
)
async def get_story(project_id: ProjectId, story_id: StoryId, request: Request) -> Response:
    return await get_document(viewed_store(request), project_id, "story", story_id)


@router.delete(
    "/{story_id}",
    response_model=CommandResponse,
    summary="Remove a story from the backlog (/backlog remove); If-Match = story ETag",
    responses=errors(409, 412),
)
async def remove_story(
    project_id: ProjectId,
    story_id: StoryId,
    actor: Member,
    commands: CommandsDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONResponse:
    args = BacklogRemoveArgs.model_validate({"story_id": story_id})
    return _with_story_etag(
        await commands.run(
            actor,
            "backlog remove",
            args,
            project_id=project_id,
            idempotency_key=idempotency_key,
            entity_match=_story_match(project_id, story_id, if_match),
        )
    )


@router.put(
    "/{story_id}/priority",
    response_model=CommandResponse,
    summary="Change a story's priority (/backlog prioritize); If-Match = story ETag",
    responses=errors(409, 412, 415),
)
async def prioritize(
    project_id: ProjectId,
    story_id: StoryId,
    body: PriorityBody,
    actor: Member,
    commands: CommandsDep,
    idempotency_key: IdempotencyKey = None,
    if_match: IfMatch = None,
) -> JSONResponse:
    args = BacklogPrioritizeArgs.model_validate({"story_id": story_id, "priority": body.priority})
    return _with_story_etag(
        await commands.run(
            actor,
            "backlog prioritize",
            args,
            project_id=project_id,
            idempotency_key=idempotency_key,
            entity_match=_story_match(project_id, story_id, if_match),
        )
    )


def _with_story_etag(response: JSONResponse) -> JSONResponse:
    """A story write answers the story's new ETag: the If-Match of the next write to it."""
    if response.status_code < 300:
        version = json.loads(bytes(response.body))["result"].get("story_version")
        if version is not None:
            response.headers["ETag"] = etag(version)
    return response


def _story_match(project_id: str, story_id: str, if_match: str | None) -> tuple[str, int] | None:
    version = parse_if_match(if_match)
    return None if version is None else (keys.entity(project_id, "story", story_id), version)
