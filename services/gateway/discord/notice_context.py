"""What rendering an event needs from Redis: the approvals it shows buttons for, the tool calls
counted since the story's phase started, and the link to the full log."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.gateway.discord.notices import NoticeContext, approval_ids_of
from shared.domain.models import Approval, Story
from shared.state import keys

if TYPE_CHECKING:
    from shared.state.store import Store
    from shared.state.timeline import TimelineEvent

__all__ = ["PHASE_ENDS", "count_tool_call", "forget_tool_calls", "notice_context"]

PHASE_ENDS = frozenset({"phase passed", "phase refused", "phase awaiting approval"})
_PROPOSING = frozenset({"epic", "stories proposed"})


async def notice_context(
    store: Store, project_id: str, event: TimelineEvent, public_api_url: str | None
) -> NoticeContext:
    approvals = {}
    for approval_id in approval_ids_of(event):
        found = await store.get(Approval, keys.entity(project_id, "approval", approval_id))
        if found is not None:
            approvals[approval_id] = found
    story_approvals = await _proposed(store, project_id, event)
    return NoticeContext(
        project_id,
        approvals,
        story_approvals,
        await _tool_calls(store, project_id, event),
        _link(public_api_url, project_id),
    )


async def count_tool_call(store: Store, project_id: str, event: TimelineEvent) -> None:
    story_id = event.payload.get("story_id")
    if story_id:
        await store.redis.hincrby(keys.discord_tool_counts(project_id), str(story_id), 1)  # type: ignore[misc]


async def forget_tool_calls(store: Store, project_id: str, event: TimelineEvent) -> None:
    story_id = event.payload.get("story_id")
    if event.command in PHASE_ENDS and story_id:
        await store.redis.hdel(keys.discord_tool_counts(project_id), str(story_id))  # type: ignore[misc]


async def _tool_calls(store: Store, project_id: str, event: TimelineEvent) -> int:
    story_id = event.payload.get("story_id")
    if event.command not in PHASE_ENDS or not story_id:
        return 0
    key = keys.discord_tool_counts(project_id)
    count: str | None = await store.redis.hget(key, str(story_id))  # type: ignore[misc]
    return int(count or 0)


async def _proposed(store: Store, project_id: str, event: TimelineEvent) -> dict[str, Approval]:
    if event.command not in _PROPOSING:
        return {}
    result = event.payload.get("result") or event.payload
    story_ids = result.get("proposed_story_ids") or result.get("story_ids") or []
    stories = await store.get_many(Story, [keys.entity(project_id, "story", s) for s in story_ids])
    approval_keys = [
        keys.entity(project_id, "approval", s.approval_id) for s in stories if s and s.approval_id
    ]
    approvals = await store.get_many(Approval, approval_keys)
    return {a.subject_id: a for a in approvals if a is not None}


def _link(public_api_url: str | None, project_id: str) -> str | None:
    if not public_api_url:
        return None
    return f"{public_api_url.rstrip('/')}/api/v1/projects/{project_id}/timeline"
