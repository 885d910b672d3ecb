"""The `/context` commands in the table, and how the CLI shows their results."""

from __future__ import annotations

import pytest
from rich.console import Console, RenderableType

from services.cli import render
from services.cli.summaries import summary
from shared.agents.roles import RoleName
from shared.domain.args_context import AGENT_NAMES, ContextMemoryArgs
from shared.domain.commands import COMMANDS, Role
from shared.domain.models import ScrumState

CONTEXT = {
    "context status": (Role.VIEWER, False),
    "context optimize": (Role.MEMBER, True),
    "context clear_cache": (Role.MEMBER, True),
    "context memory": (Role.VIEWER, False),
}


@pytest.mark.parametrize("name", sorted(CONTEXT))
def test_context_commands_are_allowed_everywhere_and_never_move_the_state(name: str) -> None:
    command = COMMANDS[name]
    assert command.scope == "project"
    assert (command.role, command.mutating) == CONTEXT[name]
    assert dict(command.transitions) == {s: s for s in ScrumState}
    assert command.help


def test_the_context_group_holds_exactly_the_four_commands() -> None:
    assert {n for n, c in COMMANDS.items() if c.path[0] == "context"} == set(CONTEXT)


def test_agent_choices_are_the_agent_roles() -> None:
    assert set(AGENT_NAMES) == {r.value for r in RoleName}
    with pytest.raises(ValueError, match="agent"):
        ContextMemoryArgs.model_validate({"agent": "janitor"})


def _text(renderable: RenderableType) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


CACHE = {"summaries": 3, "summary_chars": 900, "stale": 1, "files_seen": 12, "packs_built": 2}
PACK = {
    "pack": {
        "story_id": "story-0000000a",
        "phase": "CODE_GREEN",
        "role": "code",
        "budget_tokens": 12000,
        "tokens": 345,
        "files": [
            {"path": "calc.py", "mode": "whole", "tokens": 20, "digest": "ab" * 32, "score": 5},
            {"path": "tests/test_calc.py", "mode": "summary", "tokens": 30}
            | {"digest": "cd" * 32, "score": 0, "pinned": "RED test"},
        ],
        "omitted": ["big.py"],
    },
    "built_at": "2025-01-01T10:00:00+00:00",
}


def test_status_lists_recent_contexts_and_the_cache() -> None:
    brief = {"story_id": "story-0000000a", "phase": "DESIGN", "tokens": 345, "whole": 2}
    text = _text(render.VIEWS["context status"]({"cache": CACHE, "packs": [brief]}))
    for expected in ("Cached summaries: 3", "stale: 1", "story-0000000a", "DESIGN", "345"):
        assert expected in text


def test_status_of_one_story_lists_its_files() -> None:
    text = _text(render.VIEWS["context status"]({"cache": CACHE, "pack": PACK}))
    for expected in ("345 of 12000 tokens", "calc.py", "whole", "RED test", "big.py", "omitted"):
        assert expected in text
    missing = {"cache": CACHE, "pack": None, "note": "No agent has had a context yet."}
    assert "No agent has had a context yet." in _text(render.VIEWS["context status"](missing))


def test_memory_table_and_the_empty_case() -> None:
    notes = {"memory": {"code": [{"note": "GREEN refused: 2 tests fail", "at": "2025-01-01"}]}}
    text = _text(render.VIEWS["context memory"](notes))
    assert "GREEN refused: 2 tests fail" in text
    assert "code" in text
    assert "No agent has notes yet." in _text(render.VIEWS["context memory"]({"memory": {}}))


def test_cache_commands_say_what_they_saved() -> None:
    body = {"result": {"dropped": 2, "tokens_freed": 150, "kept": 4}}
    assert summary("context optimize", body) == (
        "context cache optimized: 2 summaries dropped, ~150 tokens freed, 4 kept"
    )
    assert summary("context clear_cache", body).startswith("context cache cleared: 2 summaries")
