"""The demo's steps, one function each, in `STEPS` order.

A step sends one command through the same client and renderers the CLI uses (or, for the
Discord steps, types a slash command or clicks a button in the fake Discord) and may remember ids
on the `DemoRun` for later steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.cli.client import ApiClient
from services.cli.commands import show
from services.cli.demo_agents import (
    follow_sprint,
    show_code,
    show_review,
    show_workflow_timeline,
    wait_for_proposals,
)
from services.cli.demo_discord import DemoDiscord
from services.cli.demo_discord_steps import (
    approve_stories,
    bind_channel,
    show_transcript,
    sprint_status_in_discord,
)
from services.cli.discord_tier import FakeInfo
from shared.domain.commands import COMMANDS

__all__ = ["EPIC", "STEPS", "DemoRun", "Step"]

EPIC: dict[str, Any] = {
    "title": "Basic arithmetic",
    "description": "Give the calculator add, subtract and multiply, each built test first.",
}


@dataclass
class DemoRun:
    """What the steps share: the API client, the user's side of the fake Discord, the sample
    repository, ids learned on the way."""

    client: ApiClient
    discord: DemoDiscord
    repo: Path
    project_id: str = "calculator"
    story_ids: list[str] = field(default_factory=list)

    @classmethod
    def connect(cls, api_url: str, token: str, discord: FakeInfo, repo: Path) -> DemoRun:
        return cls(ApiClient(api_url, token), DemoDiscord(discord), repo)

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
    cli: str  # what a user would type, after `prompt`
    run: Callable[[DemoRun], object]
    prompt: str = "$"


_IN_DISCORD = "Discord #general >"


def register_project(run: DemoRun) -> None:
    args = {
        "repo_url": str(run.repo),
        "name": "Calculator",
        "id": run.project_id,
        "mode": "partial",
    }
    run.command("project register", args)


def start_project(run: DemoRun) -> None:
    run.command("project start", {"project": run.project_id})


def create_epic(run: DemoRun) -> None:
    run.command("epic", EPIC)


def prioritize_multiply(run: DemoRun) -> None:
    run.command("backlog prioritize", {"story_id": run.story_ids[-1], "priority": "top"})
    run.command("backlog view")


def plan_sprint(run: DemoRun) -> None:
    run.command("sprint plan", {"goal": "Add, subtract and multiply, test first"})


STEPS: list[Step] = [
    Step(
        "Register the sample repository as a project",
        "awf project register <repo> --mode partial",
        register_project,
    ),
    Step(
        "Bind the project to a Discord channel, from Discord",
        "/project bind_channel project:calculator",
        bind_channel,
        _IN_DISCORD,
    ),
    Step("Let agents work on it", "awf project start calculator", start_project),
    Step(
        "Write an epic",
        'awf epic "Give the calculator add, subtract and multiply, each built test first."',
        create_epic,
    ),
    Step(
        "The backlog agent proposes stories",
        "awf backlog view --status proposed",
        wait_for_proposals,
    ),
    Step(
        "Approve the stories: one with its button in Discord, the rest with the CLI",
        "[Approve] on the first proposed story",
        approve_stories,
        _IN_DISCORD,
    ),
    Step("Move Multiply to the top", "awf backlog prioritize <story> top", prioritize_multiply),
    Step("Plan a sprint", 'awf sprint plan --goal "Add, subtract and multiply…"', plan_sprint),
    Step("Start the sprint", "awf sprint start", lambda run: run.command("sprint start")),
    Step(
        "Ask Discord how the sprint goes",
        "/sprint status project:calculator",
        sprint_status_in_discord,
        _IN_DISCORD,
    ),
    Step(
        "Agents at work: DESIGN → TEST_RED → CODE_GREEN → REFACTOR → COMMIT per story",
        "awf watch",
        follow_sprint,
    ),
    Step("Sprint review", "awf tdd overview · awf sprint status", show_review),
    Step(
        "The timeline: every change, who made it, from → to", "awf timeline", show_workflow_timeline
    ),
    Step("The code the agents wrote", "git log main..awf/<story>", show_code),
    Step(
        "The project's Discord channel and story threads, as the bot wrote them",
        "(the channel, then each story's thread)",
        show_transcript,
        _IN_DISCORD,
    ),
]
