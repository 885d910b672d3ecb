"""Every project command in every Scrum state, through `execute` on real Redis.

Allowed: the project lands in the table's result state, its version moves by exactly one for
a mutating command (not at all for a read) and the timeline records who did what. Refused:
InvalidTransition naming the state and exactly the commands allowed there, and not one byte
of the project's keys changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from shared.domain.commands import COMMANDS, command_names
from shared.domain.models import ScrumState
from shared.domain.scrum import allowed_commands
from shared.platform.errors import InvalidTransition
from tests.factories import (
    ADMIN,
    backlog_ids,
    dump_project,
    get_project,
    make_project_in_state,
    proposed_ids,
    run,
    timeline_events,
    timeline_length,
)

if TYPE_CHECKING:
    from shared.state.store import Store

pytestmark = pytest.mark.integration

PROJECT_COMMANDS = command_names("project")
CASES = [(name, state) for name in PROJECT_COMMANDS for state in ScrumState]


async def valid_args(store: Store, project_id: str, command: str) -> dict[str, Any]:
    """Arguments that are right for `command` in the project as make_project_in_state left it."""
    if command in ("backlog remove", "backlog prioritize"):
        story_id = (await backlog_ids(store, project_id))[-1]
        extra = {"priority": "top"} if command == "backlog prioritize" else {}
        return {"story_id": story_id, **extra}
    if command == "reject":
        pending = await proposed_ids(store, project_id)
        return {"ids": pending[:1] or ["story-00000000"], "reason": "out of scope"}
    by_command: dict[str, dict[str, Any]] = {
        "epic": {"description": "Another epic", "stories": [{"title": "More"}]},
        "backlog add_story": {"title": "A new story", "priority": 2},
        "sprint plan": {"capacity": 2, "goal": "ship"},
        "request_changes": {"description": "Please rename the button"},
        "suggest_fix": {"description": "Pin the dependency"},
        "feedback": {"description": "Went well"},
    }
    return by_command.get(command, {})


def test_every_project_command_and_state_is_covered() -> None:
    assert len(CASES) == len(PROJECT_COMMANDS) * 7
    assert {name for name, _ in CASES} == {n for n, c in COMMANDS.items() if c.scope == "project"}


@pytest.mark.parametrize(("command", "state"), CASES, ids=[f"{c}-{s.value}" for c, s in CASES])
async def test_command_in_state(store: Store, command: str, state: ScrumState) -> None:
    pid = await make_project_in_state(store, state)
    args = await valid_args(store, pid, command)
    before = await get_project(store, pid)
    dump_before = await dump_project(store.redis, pid)
    events_before = await timeline_length(store, pid)
    spec = COMMANDS[command]

    if state not in spec.allowed_from:
        with pytest.raises(InvalidTransition) as refused:
            await run(store, command, args, project_id=pid)
        assert refused.value.details == {
            "state": state.value,
            "allowed_commands": list(allowed_commands(state)),
        }
        assert f"/{command}" in refused.value.message
        assert state.value in refused.value.message
        assert await dump_project(store.redis, pid) == dump_before
        assert await timeline_length(store, pid) == events_before
        return

    outcome = await run(store, command, args, project_id=pid)
    expected = spec.result_state(state)
    after = await get_project(store, pid)
    assert after.state is expected
    assert (outcome.from_state, outcome.to_state) == (state.value, expected.value)
    if not spec.mutating:
        assert outcome.project_version == before.version
        assert await dump_project(store.redis, pid) == dump_before
        return
    assert after.version == before.version + 1
    assert outcome.project_version == after.version
    assert after.last_command == command
    events = await timeline_events(store, pid)
    assert len(events) == events_before + 1
    last = events[-1]
    assert (last.actor, last.command) == (ADMIN.name, command)
    assert (last.from_state, last.to_state) == (state.value, expected.value)
    assert last.version == after.version
