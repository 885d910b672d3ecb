"""What each board page shows, read with the same readers the API, CLI and Discord use.

No locks, no writes: each function loads a bounded amount (one page of projects, one sprint's
stories, one page of approvals) and returns plain values for the templates.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.domain.args_tdd import TddLogsArgs, TddOverviewArgs, TddStoryArgs
from shared.domain.models import Approval, Project, Sprint, Story, StoryStatus
from shared.domain.scrum import allowed_commands
from shared.platform.errors import NotFound
from shared.state import keys
from shared.workflow import budgets
from shared.workflow.projects import list_projects
from shared.workflow.queries import page_of
from shared.workflow.repo import load_project
from shared.workflow.tdd_readers import tdd_logs, tdd_overview, tdd_status

if TYPE_CHECKING:
    from shared.domain.budgets import BudgetCaps
    from shared.state.store import Store

__all__ = [
    "COLUMNS",
    "Inbox",
    "inbox",
    "overview",
    "project_summary",
    "sprint_board",
    "story_page",
]

_PROJECTS_SHOWN = 100
_APPROVALS_SHOWN = 50
_DECIDED_SHOWN = 20
_TIMELINE_SHOWN = 100
COLUMNS: tuple[tuple[str, tuple[StoryStatus, ...]], ...] = (
    ("To do", (StoryStatus.SPRINT, StoryStatus.BACKLOG)),
    ("In progress", (StoryStatus.IN_PROGRESS,)),
    ("Blocked", (StoryStatus.BLOCKED,)),
    ("Done", (StoryStatus.DONE,)),
    ("Skipped", (StoryStatus.SKIPPED, StoryStatus.REMOVED, StoryStatus.PROPOSED)),
)


async def overview(store: Store, caps: BudgetCaps) -> list[dict[str, Any]]:
    listing = await list_projects(store, None, _PROJECTS_SHOWN)
    projects = [Project.model_validate(p) for p in listing["projects"]]
    return [await project_summary(store, p, caps) for p in projects]


async def project_summary(store: Store, project: Project, caps: BudgetCaps) -> dict[str, Any]:
    """State, the active sprint's counts, spend against the caps, and what is stuck."""
    sprint = await _active_sprint(store, project)
    counts: Counter[str] = Counter()
    if sprint is not None:
        stories = await store.get_many(
            Story, [keys.entity(project.id, "story", i) for i in sprint.story_ids]
        )
        counts = Counter(s.status.value for s in stories if s is not None)
    pending = await store.redis.zcard(keys.index(project.id, "approvals:pending"))
    usage = await budgets.usage_of(store.redis, project.id, project.active_sprint_id)
    return {
        "project": project,
        "sprint": sprint,
        "counts": dict(counts),
        "total": sum(counts.values()),
        "pending": int(pending),
        "blocked": counts.get(StoryStatus.BLOCKED.value, 0),
        "usage": usage,
        "caps": caps,
        "allowed": allowed_commands(project.state),
    }


async def _active_sprint(store: Store, project: Project) -> Sprint | None:
    if not project.active_sprint_id:
        return None
    return await store.get(Sprint, keys.entity(project.id, "sprint", project.active_sprint_id))


async def sprint_board(store: Store, project: Project) -> dict[str, Any]:
    """The current (else latest) sprint's stories in columns by status, with their cycles."""
    view = await tdd_overview(store, project, TddOverviewArgs())
    rows: list[dict[str, Any]] = view["rows"]
    columns = [
        (title, [r for r in rows if StoryStatus(r["story_status"]) in statuses])
        for title, statuses in COLUMNS
    ]
    sprint = None
    if view["sprint_id"]:
        sprint = await store.get(Sprint, keys.entity(project.id, "sprint", view["sprint_id"]))
    return {"sprint": sprint, "columns": columns, "total": len(rows)}


async def story_page(store: Store, project: Project, story_id: str) -> dict[str, Any]:
    story = await store.get(Story, keys.entity(project.id, "story", story_id))
    if story is None:
        raise NotFound(f"Story {story_id} in project {project.id} not found.")
    status = await tdd_status(store, project, TddStoryArgs(story_id=story_id))
    logs = await tdd_logs(
        store, project, TddLogsArgs(story_id=story_id, limit=_TIMELINE_SHOWN, include_tools=True)
    )
    cycles: list[dict[str, Any]] = status["cycles"]
    return {
        "story": story,
        "cycle": cycles[0] if cycles else None,
        "history": list(reversed(logs["events"])),
    }


@dataclass(frozen=True)
class Inbox:
    pending: list[Approval]
    pending_total: int
    decided: list[Approval]


async def inbox(store: Store, project_id: str) -> Inbox:
    await load_project(store, project_id)
    pending = await page_of(
        store, Approval, project_id, "approvals:pending", "approval", None, _APPROVALS_SHOWN
    )
    recent = await page_of(
        store, Approval, project_id, "approvals", "approval", None, 2 * _DECIDED_SHOWN,
        newest_first=True,
    )  # fmt: skip
    decided = [a for a in recent.items if a.decided_at is not None][:_DECIDED_SHOWN]
    return Inbox(pending.items, pending.total, decided)
