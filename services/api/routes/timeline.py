"""The project's timeline: every change, in order, readable from any point."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.api.deps import StoreDep, Viewer
from services.api.responses import errors
from services.api.routes.commands import ProjectId
from services.api.schemas import TimelinePage
from shared.state import timeline as timeline_store
from shared.workflow.repo import load_project

__all__ = ["router"]

router = APIRouter(
    prefix="/projects/{project_id}/timeline", tags=["timeline"], responses=errors(404)
)
StreamId = Annotated[
    str | None, Query(pattern=r"^\d{1,19}-\d{1,19}$", description="Read events after this id")
]


@router.get("", response_model=TimelinePage, summary="Events in order, after an event id")
async def read_timeline(
    project_id: ProjectId,
    store: StoreDep,
    _: Viewer,
    after: StreamId = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> TimelinePage:
    await load_project(store, project_id)
    events = await timeline_store.read(store.redis, project_id, after=after, limit=limit)
    next_cursor = events[-1].id if len(events) == limit else None
    return TimelinePage(events=events, next_cursor=next_cursor)
