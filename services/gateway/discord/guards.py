"""The optional four-eyes rule: who asked for an approval may not decide it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.domain.models import Approval, Story
from shared.platform.errors import Forbidden
from shared.state import keys

if TYPE_CHECKING:
    from shared.state.store import Store

__all__ = ["check_not_requester"]


async def check_not_requester(
    store: Store, project_id: str, ids: list[str], actor_name: str
) -> None:
    """Refuse when `actor_name` requested any of the approvals `ids` names (story or approval
    ids; none means every pending approval)."""
    if not ids:
        pending = keys.index(project_id, "approvals:pending")
        ids = list(await store.redis.zrange(pending, 0, -1))
    for some_id in ids:
        approval = await _approval(store, project_id, some_id)
        if approval is not None and approval.requested_by == actor_name:
            raise Forbidden(
                f"You asked for {approval.subject_id} yourself; another approver must decide "
                "it (discord.approver_must_differ).",
                ids=[some_id],
            )


async def _approval(store: Store, project_id: str, some_id: str) -> Approval | None:
    approval_id: str | None = some_id
    if some_id.startswith("story-"):
        story = await store.get(Story, keys.entity(project_id, "story", some_id))
        approval_id = story.approval_id if story else None
    if not approval_id:
        return None
    return await store.get(Approval, keys.entity(project_id, "approval", approval_id))
