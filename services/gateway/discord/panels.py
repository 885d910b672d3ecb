"""The decision buttons a reply carries: pending approvals, a blocked story, the sprint."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.gateway.discord import wire
from services.gateway.discord.components import approval_row, blocked_row, sprint_row
from shared.domain.models import Approval, ApprovalKind, Project, Sprint
from shared.state import keys

if TYPE_CHECKING:
    from services.gateway.discord.wire import Json
    from shared.state.store import Store

__all__ = ["PANEL_COMMANDS", "decision_rows", "sprint_rows"]

# Replies to these commands show what can be decided now.
PANEL_COMMANDS = frozenset(
    {"state", "epic", "sprint status", "sprint start", "sprint pause", "sprint resume"}
)


async def decision_rows(store: Store, project_id: str) -> list[Json]:
    """One row per pending approval (oldest first), then the sprint's Pause/Resume."""
    sprint = await sprint_rows(store, project_id)
    room = wire.MAX_ROWS - len(sprint)
    pending_key = keys.index(project_id, "approvals:pending")
    ids = await store.redis.zrange(pending_key, 0, room - 1)
    approvals = [await store.get(Approval, keys.entity(project_id, "approval", i)) for i in ids]
    rows = [_row_for(project_id, a) for a in approvals if a is not None]
    return [r for r in rows if r is not None] + sprint


def _row_for(project_id: str, approval: Approval) -> Json | None:
    if approval.kind is ApprovalKind.STORY_PROPOSAL:
        return approval_row(project_id, approval)
    if approval.kind is ApprovalKind.BLOCKED_TASK:
        return blocked_row(project_id, approval)
    return None


async def sprint_rows(store: Store, project_id: str) -> list[Json]:
    project = await store.get(Project, keys.project(project_id))
    if project is None or not project.active_sprint_id:
        return []
    sprint = await store.get(Sprint, keys.entity(project_id, "sprint", project.active_sprint_id))
    row = sprint_row(project_id, sprint) if sprint else None
    return [row] if row else []
