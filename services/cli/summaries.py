"""One line per mutating command saying what changed, then the state transition."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.markup import escape

from services.cli import output
from services.cli.render_context import CONTEXT_SUMMARIES

__all__ = ["SUMMARIES", "print_mutation", "summary", "transition"]

Summary = Callable[[dict[str, Any]], str]


def _epic(r: dict[str, Any]) -> str:
    proposed = len(r.get("proposed_story_ids") or [])
    if not proposed:
        return f"epic {r.get('epic_id')} created: {r.get('title')}"
    noun = "story" if proposed == 1 else "stories"
    return (
        f"epic {r.get('epic_id')} created; {proposed} {noun} proposed — approve with `awf approve`"
    )


def _approve(r: dict[str, Any]) -> str:
    ids = r.get("approved_story_ids") or []
    return f"approved {len(ids)} {'story' if len(ids) == 1 else 'stories'}: {', '.join(ids)}"


def _plan(r: dict[str, Any]) -> str:
    count = len(r.get("story_ids") or [])
    return f"sprint {r.get('sprint_id')} planned with {count} stories — start it with `awf sprint start`"


def _request_changes(r: dict[str, Any]) -> str:
    return f"sprint {r.get('sprint_id')} closed; changes queued as story {r.get('change_story_id')}"


def _register(r: dict[str, Any]) -> str:
    pid = r.get("project_id")
    return f"project {pid} registered — let agents work on it with `awf project start {pid}`"


SUMMARIES: dict[str, Summary] = {
    "epic": _epic,
    "approve": _approve,
    "backlog add_story": lambda r: (
        f"story {r.get('story_id')} added to the backlog: {r.get('title')}"
    ),
    "backlog remove": lambda r: f"story {r.get('story_id')} removed from the backlog",
    "backlog prioritize": lambda r: (
        f"story {r.get('story_id')} now has priority {r.get('priority')}"
    ),
    "sprint plan": _plan,
    "sprint start": lambda r: (
        f"sprint {r.get('sprint_id')} started with {len(r.get('story_ids') or [])} stories"
    ),
    "sprint pause": lambda r: f"sprint {r.get('sprint_id')} paused",
    "sprint resume": lambda r: f"sprint {r.get('sprint_id')} resumed",
    "request_changes": _request_changes,
    "suggest_fix": lambda r: f"hint recorded for story {r.get('story_id')}; the sprint resumes",
    "skip_task": lambda r: f"story {r.get('story_id')} skipped; the sprint resumes",
    "feedback": lambda r: f"sprint {r.get('sprint_id')} closed with your feedback",
    "project register": _register,
    "project start": lambda r: f"project {r.get('project_id')} is now {r.get('status', 'active')}",
    "project stop": lambda r: f"project {r.get('project_id')} is now {r.get('status', 'stopped')}",
    **CONTEXT_SUMMARIES,
}


def summary(command: str, body: dict[str, Any]) -> str:
    result = body.get("result") if isinstance(body.get("result"), dict) else {}
    describe = SUMMARIES.get(command)
    return describe(result or {}) if describe else f"{command}: done"


def transition(body: dict[str, Any]) -> str | None:
    src, dst = body.get("from_state"), body.get("to_state")
    if not src and not dst:
        return None
    if src == dst:
        return f"state: {dst} (unchanged)"
    return f"{src} → {dst}"


def print_mutation(command: str, body: dict[str, Any]) -> None:
    output.success(summary(command, body))
    moved = transition(body)
    if moved:
        output.out.print(f"  [magenta]{escape(moved)}[/magenta]")
