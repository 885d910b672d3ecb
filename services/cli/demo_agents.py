"""The demo's agent steps: wait for the backlog agent's proposals, follow the sprint live, show
the review and where the agents' code is."""

from __future__ import annotations

import subprocess
import time
from typing import TYPE_CHECKING, Any

from rich.panel import Panel
from rich.table import Table

from services.cli import output
from services.cli.render import timeline_table
from services.cli.watch import overview_table, watch_sprint
from shared.domain.commands import COMMANDS

if TYPE_CHECKING:
    from services.cli.demo_steps import DemoRun

__all__ = [
    "DemoStalled",
    "follow_sprint",
    "show_code",
    "show_review",
    "show_workflow_timeline",
    "wait_for_proposals",
]

SPRINT_TIMEOUT_S = 240.0
_PROPOSAL_TIMEOUT_S = 60.0


class DemoStalled(RuntimeError):
    """The agents did not get where the demo expected in time; the message says where."""


def wait_for_proposals(run: DemoRun) -> None:
    """The backlog agent turns the epic into proposed stories; wait for them, then list them."""
    deadline = time.monotonic() + _PROPOSAL_TIMEOUT_S
    with output.err_console.status("the backlog agent is splitting the epic into stories…"):
        while time.monotonic() < deadline:
            body = run.client.run(COMMANDS["backlog view"], {"status": "proposed"}, run.project_id)
            stories = body["result"].get("stories") or []
            if stories:
                run.story_ids = [s["id"] for s in stories]
                break
            time.sleep(0.3)
    if not run.story_ids:
        raise DemoStalled("the backlog agent proposed no stories in time; see the worker logs")
    run.command("backlog view", {"status": "proposed"})


def follow_sprint(run: DemoRun) -> None:
    final = watch_sprint(run.client, run.project_id, SPRINT_TIMEOUT_S, 0.5)
    if final != "SPRINT_REVIEW":
        raise DemoStalled(f"the sprint stopped in {final}, not SPRINT_REVIEW")


def show_review(run: DemoRun) -> None:
    sprint = _reviewed_sprint(run)
    overview = run.client.run(COMMANDS["tdd overview"], {}, run.project_id)["result"]
    output.out.print(overview_table(overview.get("rows") or []))
    summary = sprint.get("review_summary") or "(the data agent has not written its summary yet)"
    output.out.print(Panel(summary, title="Sprint review (data agent)", expand=False))


def show_workflow_timeline(run: DemoRun) -> None:
    """The last workflow events (agents' individual tool calls left out)."""
    body = run.client.get(f"/api/v1/projects/{run.project_id}/timeline", {"limit": 500})
    events = [e for e in body.get("events") or [] if e.get("command") != "tool"]
    output.out.print(timeline_table(events[-25:]))


def show_code(run: DemoRun) -> None:
    table = Table(title=f"The agents' work in {run.repo}")
    for column in ("branch", "commits (oldest first)"):
        table.add_column(column)
    for branch in _git(run, "branch", "--list", "awf/*", "--format=%(refname:short)").split():
        log = _git(run, "log", "--reverse", "--format=%h %s", f"main..{branch}")
        table.add_row(branch, log)
    output.out.print(table)
    output.out.print(
        f"Look around: [cyan]git -C {run.repo} log --oneline --all[/cyan] · [bold]main[/bold] is "
        "untouched: each finished story waits for an approved merge ([cyan]awf approve[/cyan] "
        "on a running stack)."
    )


def _reviewed_sprint(run: DemoRun, timeout_s: float = 30.0) -> dict[str, Any]:
    path = f"/api/v1/projects/{run.project_id}/sprints/current"
    deadline = time.monotonic() + timeout_s
    sprint: dict[str, Any] = run.client.get(path)
    while not sprint.get("review_summary") and time.monotonic() < deadline:
        time.sleep(0.5)
        sprint = run.client.get(path)
    return sprint


def _git(run: DemoRun, *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - fixed arguments
        ["git", *args],  # noqa: S607 - git from PATH, like a user would
        cwd=run.repo,
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout.strip()
