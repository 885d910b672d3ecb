"""The demo's steps, one function each, in `STEPS` order.

A step sends one command through the same client and renderers the CLI uses and may remember
ids on the `DemoRun` for later steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.cli import output
from services.cli.client import ApiClient
from services.cli.commands import show
from services.cli.render import timeline_table
from shared.domain.commands import COMMANDS

__all__ = ["EPIC", "STEPS", "DemoRun", "Step"]

EPIC: dict[str, Any] = {
    "title": "Basic arithmetic",
    "description": "Give the calculator the basic arithmetic operations, each test first.",
    "stories": [
        {
            "title": "Add two numbers",
            "description": "add(a, b) returns the sum.",
            "acceptance_criteria": ["add(2, 3) == 5", "add(-1, 1) == 0"],
        },
        {
            "title": "Subtract",
            "description": "subtract(a, b) returns a minus b.",
            "acceptance_criteria": ["subtract(5, 3) == 2", "subtract(0, 4) == -4"],
        },
        {
            "title": "Multiply",
            "description": "multiply(a, b) returns the product.",
            "acceptance_criteria": ["multiply(3, 4) == 12", "multiply(7, 0) == 0"],
        },
    ],
}


@dataclass
class DemoRun:
    """What the steps share: the client, the sample repository, ids learned on the way."""

    client: ApiClient
    repo: Path
    project_id: str = "calculator"
    story_ids: list[str] = field(default_factory=list)

    @classmethod
    def connect(cls, api_url: str, token: str, repo: Path) -> DemoRun:
        return cls(ApiClient(api_url, token), repo)

    def command(self, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run one table command on the demo project and render it as the CLI would."""
        command = COMMANDS[name]
        project = self.project_id if command.scope == "project" else None
        body: dict[str, Any] = self.client.run(command, args or {}, project)
        show(command, body, json_output=False)
        return body


@dataclass(frozen=True)
class Step:
    title: str
    cli: str
    run: Callable[[DemoRun], object]


def register_project(run: DemoRun) -> None:
    args = {"repo_url": str(run.repo), "name": "Calculator", "id": run.project_id}
    run.command("project register", args)


def start_project(run: DemoRun) -> None:
    run.command("project start", {"project": run.project_id})


def create_epic(run: DemoRun) -> None:
    body = run.command("epic", EPIC)
    run.story_ids = list(body["result"].get("proposed_story_ids") or [])


def approve_all(run: DemoRun) -> None:
    run.command("approve")


def prioritize_multiply(run: DemoRun) -> None:
    run.command("backlog prioritize", {"story_id": run.story_ids[-1], "priority": "top"})
    run.command("backlog view")


def plan_sprint(run: DemoRun) -> None:
    run.command("sprint plan", {"goal": "Add, subtract and multiply, test first"})


def show_timeline(run: DemoRun) -> None:
    body = run.client.get(f"/api/v1/projects/{run.project_id}/timeline")
    output.out.print(timeline_table(body.get("events") or []))


STEPS: list[Step] = [
    Step(
        "Register the sample repository as a project",
        "awf project register <repo>",
        register_project,
    ),
    Step("Let agents work on it", "awf project start calculator", start_project),
    Step(
        "Create an epic with three proposed stories",
        'awf epic "Give the calculator…" --story "Add two numbers" --story Subtract --story Multiply',
        create_epic,
    ),
    Step("Where are we?", "awf state", lambda run: run.command("state")),
    Step("Approve every proposed story", "awf approve", approve_all),
    Step("The backlog", "awf backlog view", lambda run: run.command("backlog view")),
    Step("Move Multiply to the top", "awf backlog prioritize <story> top", prioritize_multiply),
    Step("Plan a sprint", 'awf sprint plan --goal "Add, subtract and multiply…"', plan_sprint),
    Step("Start the sprint", "awf sprint start", lambda run: run.command("sprint start")),
    Step("Sprint status", "awf sprint status", lambda run: run.command("sprint status")),
    Step("Where are we now?", "awf state", lambda run: run.command("state")),
    Step("The timeline: every change, who made it, from → to", "(GET …/timeline)", show_timeline),
]
