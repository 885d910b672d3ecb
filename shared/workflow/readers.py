"""Read-only commands: /state, /backlog view, /sprint status, and the /tdd reads."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from shared.domain.args import BacklogViewArgs
from shared.domain.models import Approval, Project, Sprint, Story
from shared.domain.scrum import allowed_commands
from shared.platform.errors import NotFound
from shared.state import keys
from shared.workflow import budgets
from shared.workflow.context_readers import context_memory, context_status
from shared.workflow.queries import page_of, stories_by_id
from shared.workflow.tdd_readers import tdd_logs, tdd_metrics_of, tdd_overview, tdd_status

if TYPE_CHECKING:
    from shared.domain.args import CommandArgs
    from shared.state.keys import IndexKind
    from shared.state.store import Store

__all__ = ["READERS", "backlog_view", "sprint_status", "state"]

Reader = Callable[["Store", Project, Any], Awaitable[dict[str, Any]]]
_PENDING_SHOWN = 10
_INDEX_BY_STATUS: dict[str, IndexKind] = {
    "backlog": "backlog",
    "proposed": "proposed",
    "all": "stories",
}


async def state(store: Store, project: Project, args: CommandArgs) -> dict[str, Any]:
    pending = await page_of(
        store, Approval, project.id, "approvals:pending", "approval", None, _PENDING_SHOWN
    )
    return {
        "project": project.model_dump(mode="json"),
        "state": project.state.value,
        "allowed_commands": list(allowed_commands(project.state)),
        "pending_approvals": [a.model_dump(mode="json") for a in pending.items],
        "pending_approvals_total": pending.total,
        "sprint": await _sprint_summary(store, project),
        "usage": await budgets.usage_of(store.redis, project.id, project.active_sprint_id),
    }


async def backlog_view(store: Store, project: Project, args: BacklogViewArgs) -> dict[str, Any]:
    if args.id:
        story = await store.get(Story, keys.entity(project.id, "story", args.id))
        if story is None:
            raise NotFound(f"Story {args.id} in project {project.id} not found.")
        return {"story": story.model_dump(mode="json")}
    if args.status == "sprint":
        sprint = await _current_sprint(store, project)
        stories = await stories_by_id(store, project.id, sprint.story_ids if sprint else [])
        return {
            "stories": [s.model_dump(mode="json") for s in stories],
            "next_cursor": None,
            "total": len(stories),
        }
    page = await page_of(
        store, Story, project.id, _INDEX_BY_STATUS[args.status], "story", args.cursor, args.limit
    )
    return {
        "stories": [s.model_dump(mode="json") for s in page.items],
        "next_cursor": page.next_cursor,
        "total": page.total,
    }


async def sprint_status(store: Store, project: Project, args: CommandArgs) -> dict[str, Any]:
    sprint = await _current_sprint(store, project)
    if sprint is None:
        raise NotFound(f"Project {project.id} has no current sprint.")
    stories = await stories_by_id(store, project.id, sprint.story_ids)
    return {
        "sprint": sprint.model_dump(mode="json"),
        "stories": [s.model_dump(mode="json") for s in stories],
        "counts": dict(Counter(s.status.value for s in stories)),
        "blocked_story_id": project.blocked_story_id,
    }


async def _current_sprint(store: Store, project: Project) -> Sprint | None:
    if not project.active_sprint_id:
        return None
    return await store.get(Sprint, keys.entity(project.id, "sprint", project.active_sprint_id))


async def _sprint_summary(store: Store, project: Project) -> dict[str, Any] | None:
    sprint = await _current_sprint(store, project)
    if sprint is None:
        return None
    stories = await stories_by_id(store, project.id, sprint.story_ids)
    return {
        "id": sprint.id,
        "goal": sprint.goal,
        "status": sprint.status.value,
        "counts": dict(Counter(s.status.value for s in stories)),
    }


READERS: dict[str, Reader] = {
    "state": state,
    "backlog view": backlog_view,
    "sprint status": sprint_status,
    "tdd status": tdd_status,
    "tdd logs": tdd_logs,
    "tdd overview": tdd_overview,
    "tdd metrics": tdd_metrics_of,
    "context status": context_status,
    "context memory": context_memory,
}
