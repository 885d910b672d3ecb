"""Every router of the API: health at the root, resources under /api/v1.

The app adds each resource router's routes to its own router (`services/api/flat_routes.py`)
rather than including the routers, let alone through one `/api/v1` router: FastAPI tries the
routes in order, and every included router costs a walk into it per request. For the same reason
the routers of the most frequent requests (reads of one project, story or epic) come first.
"""

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

__all__ = ["API_PREFIX", "api_routers", "health_router"]

API_PREFIX = "/api/v1"
health_router = health.router
api_routers: tuple[APIRouter, ...] = (
    projects.router,
    stories.router,
    epics.router,
    sprints.router,
    approvals.router,
    timeline.router,
    commands.router,
    projects.status_router,
)
