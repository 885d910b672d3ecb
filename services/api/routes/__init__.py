"""Every router of the API: health at the root, resources under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from services.api.routes import (
    approvals,
    commands,
    epics,
    health,
    projects,
    sprints,
    stories,
    timeline,
)

__all__ = ["api_router", "health_router"]

health_router = health.router
api_router = APIRouter(prefix="/api/v1")
for module in (commands, projects, epics, stories, sprints, approvals, timeline):
    api_router.include_router(module.router)
api_router.include_router(projects.status_router)
