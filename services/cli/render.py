"""Readable renderings of read commands: state panel, backlog and sprint tables, project lists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from services.cli.render_context import CONTEXT_VIEWS

__all__ = [
    "VIEWS",
    "backlog_view",
    "global_status",
    "project_list",
    "resource_status",
    "sprint_status",
    "state_view",
    "story_panel",
    "timeline_table",
]

View = Callable[[dict[str, Any]], RenderableType]


def state_view(result: dict[str, Any]) -> RenderableType:
    project = result.get("project") or {}
    lines = [
        f"[bold]State:[/bold] [magenta]{escape(str(result.get('state')))}[/magenta]"
        f"   project status: {escape(str(project.get('status', '?')))}",
        "[bold]Allowed:[/bold] " + escape(", ".join(result.get("allowed_commands") or []) or "-"),
    ]
    pending = result.get("pending_approvals") or []
    total = result.get("pending_approvals_total", len(pending))
    lines.append(f"[bold]Pending approvals:[/bold] {total}")
    lines += [
        f"  • {escape(str(a.get('subject_id')))}  {escape(str(a.get('summary', '')))}"
        for a in pending
    ]
    sprint = result.get("sprint")
    if sprint:
        lines.append(
            f"[bold]Sprint:[/bold] {escape(str(sprint.get('id')))} ({escape(str(sprint.get('status')))})"
            f"  goal: {escape(str(sprint.get('goal') or '-'))}  stories: {_counts(sprint.get('counts'))}"
        )
    else:
        lines.append("[bold]Sprint:[/bold] none")
    title = f"{project.get('name', project.get('id', 'project'))} ({project.get('id', '?')})"
    return Panel("\n".join(lines), title=escape(title), expand=False)


def backlog_view(result: dict[str, Any]) -> RenderableType:
    if "story" in result:
        return story_panel(result["story"])
    stories = result.get("stories") or []
    table = _story_table(stories, f"Backlog ({result.get('total', len(stories))} stories)")
    if result.get("next_cursor"):
        table.caption = f"more: --cursor {result['next_cursor']}"
    return table


def story_panel(story: dict[str, Any]) -> RenderableType:
    criteria = story.get("acceptance_criteria") or []
    lines = [
        f"[bold]{escape(str(story.get('title')))}[/bold]",
        f"status {story.get('status')} · priority {story.get('priority')} · "
        f"points {story.get('points') if story.get('points') is not None else '-'}",
        escape(str(story.get("description") or "")),
        *(f"  ☐ {escape(str(c))}" for c in criteria),
    ]
    return Panel(
        "\n".join(line for line in lines if line), title=str(story.get("id")), expand=False
    )


def sprint_status(result: dict[str, Any]) -> RenderableType:
    sprint = result.get("sprint") or {}
    head = Text.from_markup(
        f"[bold]Sprint {escape(str(sprint.get('id')))}[/bold] ({escape(str(sprint.get('status')))})"
        f"  goal: {escape(str(sprint.get('goal') or '-'))}\nstories: {_counts(result.get('counts'))}"
    )
    if result.get("blocked_story_id"):
        head.append(f"\nblocked: {result['blocked_story_id']}", style="red")
    return Group(head, _story_table(result.get("stories") or [], "Sprint stories"))


def project_list(result: dict[str, Any]) -> RenderableType:
    columns = ("id", "name", "status", "state", "mode", "priority", "repo_url")
    return _rows_table("Projects", columns, result)


def global_status(result: dict[str, Any]) -> RenderableType:
    columns = ("id", "name", "status", "state", "active_sprint_id", "blocked_story_id", "priority")
    return _rows_table("Global status", columns, result)


def resource_status(result: dict[str, Any]) -> RenderableType:
    active = ", ".join(result.get("active_projects") or []) or "none"
    return Panel(
        f"Active projects: {result.get('active_count')} of {result.get('max_concurrent_projects')}"
        f" ({escape(active)})\nQueued jobs: {result.get('queued_jobs')}",
        title="Resources",
        expand=False,
    )


def timeline_table(events: list[dict[str, Any]]) -> RenderableType:
    table = Table(title="Timeline")
    for column in ("time", "actor", "command", "transition", "v"):
        table.add_column(column)
    for event in events:
        src, dst = event.get("from_state"), event.get("to_state")
        transition = f"{src} → {dst}" if src and dst and src != dst else str(dst or src or "")
        table.add_row(
            str(event.get("ts", ""))[11:19],
            str(event.get("actor", "")),
            str(event.get("command", "")),
            transition,
            str(event.get("version") if event.get("version") is not None else ""),
        )
    return table


def _story_table(stories: list[dict[str, Any]], title: str) -> Table:
    table = Table(title=title)
    for column in ("id", "priority", "points", "status", "title"):
        table.add_column(column, overflow="fold")
    for story in stories:
        points = story.get("points")
        table.add_row(
            str(story.get("id")),
            str(story.get("priority")),
            "-" if points is None else str(points),
            str(story.get("status")),
            str(story.get("title")),
        )
    return table


def _rows_table(title: str, columns: tuple[str, ...], result: dict[str, Any]) -> Table:
    table = Table(title=f"{title} ({result.get('total', len(result.get('projects') or []))})")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in result.get("projects") or []:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    return table


def _counts(counts: Any) -> str:
    if not isinstance(counts, dict) or not counts:
        return "none"
    return ", ".join(f"{k} {v}" for k, v in counts.items())


VIEWS: dict[str, View] = {
    "state": state_view,
    "backlog view": backlog_view,
    "sprint status": sprint_status,
    "project list": project_list,
    "global status": global_status,
    "resource status": resource_status,
    **CONTEXT_VIEWS,
}
