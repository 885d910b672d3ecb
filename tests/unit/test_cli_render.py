"""The `awf` command tree comes from the command table; help and renderings read well."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from rich.console import Console, RenderableType
from typer.testing import CliRunner

from services.cli import render
from services.cli.main import app
from services.cli.summaries import summary, transition
from shared.domain.commands import COMMANDS

runner = CliRunner()


def _tree() -> Any:
    return typer.main.get_command(app)


def _lookup(path: tuple[str, ...]) -> Any:
    node = _tree()
    for part in path:
        node = node.commands[part]
    return node


def _text(renderable: RenderableType) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


@pytest.mark.parametrize("name", list(COMMANDS))
def test_every_table_command_is_a_subcommand(name: str) -> None:
    command = _lookup(COMMANDS[name].path)
    assert command.help == COMMANDS[name].help


def test_multi_word_commands_live_in_groups_and_single_words_at_the_top() -> None:
    top = _tree().commands
    groups = {c.path[0] for c in COMMANDS.values() if len(c.path) == 2}
    assert (
        groups == {"backlog", "sprint", "project", "global", "resource", "tdd", "context"} & groups
    )
    for group in groups:
        assert top[group].commands, group
    for command in COMMANDS.values():
        if len(command.path) == 1:
            assert command.name in top
    assert {"token", "up", "demo"} <= set(top)


@pytest.mark.parametrize("name", [n for n in COMMANDS if "_" in n])
def test_underscore_names_also_answer_to_dashes(name: str) -> None:
    *group, last = COMMANDS[name].path
    alias = _lookup((*group, last.replace("_", "-")))
    assert alias.hidden
    assert alias.help == COMMANDS[name].help


def test_no_command_outside_the_table_except_local_tools() -> None:
    top = _tree().commands
    table_top = {c.path[0] for c in COMMANDS.values()}
    aliases = {n.replace("_", "-") for n in table_top}
    assert set(top) - table_top - aliases == {
        "token",
        "up",
        "demo",
        "watch",
        "board",
        "health",
        "backup",
        "decrypt-backup",
        "restore",
        "export",
        "import",
    }


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--help"], ["--api-url", "--token", "--project", "--json", "backlog", "epic"]),
        (["epic", "--help"], ["DESCRIPTION", "--story", "--title", "repeatable"]),
        (["approve", "--help"], ["[IDS]...", "Approve proposed stories"]),
        (["backlog", "prioritize", "--help"], ["STORY_ID", "top|high|medium|low"]),
        (["backlog", "view", "--help"], ["--status", "proposed|backlog|sprint|all", "--limit"]),
        (["sprint", "plan", "--help"], ["[STORY_IDS]...", "--goal", "--capacity"]),
        (["project", "register", "--help"], ["REPO_URL", "--mode", "blocking|partial|autonomous"]),
        (["request-changes", "--help"], ["DESCRIPTION", "SPRINT_REVIEW"]),
        (["up", "--help"], ["--port", "--replicas", "--host"]),
        (["token", "--help"], ["--role", "--subject", "--ttl-hours"]),
    ],
)
def test_help(argv: list[str], expected: list[str]) -> None:
    result = runner.invoke(app, argv, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for text in expected:
        assert text in result.output, (text, result.output)


def test_unknown_command_is_a_usage_error() -> None:
    result = runner.invoke(app, ["sprint", "explode"])
    assert result.exit_code == 2


STORY = {
    "id": "story-0000000a",
    "title": "Add two numbers",
    "priority": 1,
    "points": 3,
    "status": "backlog",
    "acceptance_criteria": ["add(2, 3) == 5"],
    "description": "sum",
}


def test_state_panel_shows_state_allowed_pending_and_sprint() -> None:
    text = _text(
        render.state_view(
            {
                "project": {"id": "calc", "name": "Calculator", "status": "active"},
                "state": "SPRINT_ACTIVE",
                "allowed_commands": ["sprint pause", "state"],
                "pending_approvals": [{"subject_id": "story-0000000a", "summary": "Add"}],
                "pending_approvals_total": 1,
                "sprint": {
                    "id": "sprint-1",
                    "goal": "math",
                    "status": "active",
                    "counts": {"sprint": 2},
                },
            }
        )
    )
    for expected in ("SPRINT_ACTIVE", "sprint pause, state", "story-0000000a", "sprint 2", "math"):
        assert expected in text


def test_backlog_table_and_single_story() -> None:
    table = _text(render.backlog_view({"stories": [STORY], "total": 1, "next_cursor": "abc"}))
    for expected in (
        "id",
        "priority",
        "points",
        "status",
        "title",
        "Add two numbers",
        "--cursor abc",
    ):
        assert expected in table
    assert "add(2, 3) == 5" in _text(render.backlog_view({"story": STORY}))


def test_sprint_status_and_lists() -> None:
    text = _text(
        render.sprint_status(
            {"sprint": {"id": "sprint-1", "status": "active"}, "stories": [STORY], "counts": {}}
        )
    )
    assert "sprint-1" in text
    assert "Add two numbers" in text
    listing = {"projects": [{"id": "calc", "name": "Calc", "state": "IDLE"}], "total": 1}
    assert "calc" in _text(render.project_list(listing))
    assert "IDLE" in _text(render.global_status(listing))
    resources = {"active_projects": ["calc"], "active_count": 1, "max_concurrent_projects": 3}
    assert "1 of 3" in _text(render.resource_status(resources))


def test_timeline_table() -> None:
    events = [
        {"ts": "2025-01-01T10:11:12+00:00", "actor": "ann", "command": "epic"}
        | {"from_state": "IDLE", "to_state": "BACKLOG_READY", "version": 3},
    ]
    text = _text(render.timeline_table(events))
    assert "10:11:12" in text
    assert "IDLE → BACKLOG_READY" in text


def test_every_view_is_registered_for_a_read_command() -> None:
    for name in render.VIEWS:
        assert not COMMANDS[name].mutating


def test_mutation_summaries() -> None:
    body = {
        "from_state": "IDLE",
        "to_state": "BACKLOG_READY",
        "result": {"epic_id": "epic-1a2b3c4d", "proposed_story_ids": ["a", "b"]},
    }
    assert summary("epic", body) == (
        "epic epic-1a2b3c4d created; 2 stories proposed — approve with `awf approve`"
    )
    assert transition(body) == "IDLE → BACKLOG_READY"
    assert transition({"from_state": "IDLE", "to_state": "IDLE"}) == "state: IDLE (unchanged)"
    assert summary("some new command", {"result": {}}) == "some new command: done"
