"""Every project command in every Scrum state, through `execute` on real Redis.

Allowed: the project lands in the table's result state, its version moves by exactly one for
a mutating command (not at all for a read) and the timeline records who did what. Refused:
InvalidTransition naming the state and exactly the commands allowed there, and not one byte
of the project's keys changed.

The `/tdd` steering commands get a sprint story with a fresh cycle (paused for /tdd resume);
besides the command's own event they record one cycle event per cycle they change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from shared.domain.commands import COMMANDS, command_names
from shared.domain.models import ApprovalKind, ScrumState
from shared.domain.scrum import allowed_commands
from shared.platform.errors import InvalidTransition
from shared.workflow import cycles, system
from tests.factories import (
    ADMIN,
    backlog_ids,
    dump_project,
    get_project,
    make_project_in_state,
    proposed_ids,
    run,
    sprint_story_ids,
    timeline_events,
    timeline_length,
)

if TYPE_CHECKING:
    from shared.state.store import Store, Transaction

pytestmark = pytest.mark.integration

PROJECT_COMMANDS = command_names("project")
CASES = [(name, state) for name in PROJECT_COMMANDS for state in ScrumState]
STEERABLE = {ScrumState.SPRINT_ACTIVE, ScrumState.SPRINT_PAUSED, ScrumState.BLOCKED}
CYCLE_EVENTS = {"tdd start", "tdd pause", "tdd resume", "tdd halt_all", "tdd abort"}
CYCLE_EVENTS |= {"tdd skip_phase", "tdd run_tests"}
UNKNOWN_STORY = "story-00000000"


async def tdd_args(store: Store, project_id: str, command: str) -> dict[str, Any]:
    """A story of the sprint, with a queued cycle for the steering commands (a paused one for
    /tdd resume); a story id of the right shape where no sprint runs (the state refuses)."""
    state = (await get_project(store, project_id)).state
    if state not in STEERABLE:
        return {} if command == "tdd halt_all" else {"story_id": UNKNOWN_STORY}
    story_id = (await sprint_story_ids(store, project_id))[-1]  # never the blocked one
    if command != "tdd start":
        await cycles.create(store, project_id, story_id)
    if command == "tdd resume":
        await run(store, "tdd pause", {"story_id": story_id}, project_id=project_id)
    return {} if command == "tdd halt_all" else {"story_id": story_id}


async def merge_waiting(store: Store, project_id: str) -> str:
    """With no proposal left, a merge waiting for a human (it may outlive its sprint)."""
    story_id = (await backlog_ids(store, project_id))[0]

    async def ask(tx: Transaction) -> str:
        approval = await system.request_approval_in(
            tx, project_id, ApprovalKind.MERGE, story_id, "merge it"
        )
        return approval.id

    return await store.atomic(ask)


async def valid_args(store: Store, project_id: str, command: str) -> dict[str, Any]:
    """Arguments that are right for `command` in the project as make_project_in_state left it."""
    if command in ("backlog remove", "backlog prioritize"):
        story_id = (await backlog_ids(store, project_id))[-1]
        extra = {"priority": "top"} if command == "backlog prioritize" else {}
        return {"story_id": story_id, **extra}
    if command in CYCLE_EVENTS:
        extra = {"justification": "spike, no test"} if command == "tdd skip_phase" else {}
        return await tdd_args(store, project_id, command) | extra
    if command in ("approve", "reject"):
        pending = await proposed_ids(store, project_id) or [await merge_waiting(store, project_id)]
        reason = {"reason": "out of scope"} if command == "reject" else {}
        return {"ids": pending[:1]} | reason
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
    events = (await timeline_events(store, pid))[events_before:]
    own, *cycle_events = events
    assert (own.actor, own.command) == (ADMIN.name, command)
    assert (own.from_state, own.to_state) == (state.value, expected.value)
    assert own.version == after.version
    if command not in CYCLE_EVENTS:
        assert not cycle_events
    assert all(e.actor == ADMIN.name and "cycle_id" in e.payload for e in cycle_events)
