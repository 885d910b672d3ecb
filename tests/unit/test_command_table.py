"""The command table against the reference state machine (reference-spec.md §1)."""

from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.commands import COMMANDS, Command, Role, command_names, get_command
from shared.domain.models import ScrumState as S
from shared.domain.scrum import (
    SYSTEM_EVENTS,
    Refusal,
    SystemEvent,
    allowed_commands,
    check_command,
    check_system_event,
)

ALL = frozenset(S)
BACKLOG = ALL - {S.SPRINT_REVIEW}

# The reference table, written out by hand: command -> {from: to}.
REFERENCE: dict[str, dict[S, S]] = {
    "epic": {S.IDLE: S.BACKLOG_READY, S.BACKLOG_READY: S.BACKLOG_READY},
    # extended: phase results, budget holds and merges wait for a human in any state
    "approve": {s: s for s in ALL},
    "sprint plan": {S.BACKLOG_READY: S.SPRINT_PLANNED},
    "sprint start": {S.SPRINT_PLANNED: S.SPRINT_ACTIVE},
    "sprint status": {s: s for s in (S.SPRINT_ACTIVE, S.SPRINT_PAUSED, S.BLOCKED)},
    "sprint pause": {S.SPRINT_ACTIVE: S.SPRINT_PAUSED},
    "sprint resume": {S.SPRINT_PAUSED: S.SPRINT_ACTIVE},
    "request_changes": {S.SPRINT_REVIEW: S.BACKLOG_READY},
    "suggest_fix": {S.BLOCKED: S.SPRINT_ACTIVE},
    "skip_task": {S.BLOCKED: S.SPRINT_ACTIVE},
    "feedback": {S.SPRINT_REVIEW: S.IDLE},
    "state": {s: s for s in ALL},
    "backlog view": {s: s for s in BACKLOG},
    "backlog add_story": {s: s for s in BACKLOG},
    "backlog remove": {s: s for s in BACKLOG},
    "backlog prioritize": {s: s for s in BACKLOG},
}
REFERENCE_GLOBAL = (
    "project register",
    "project list",
    "project start",
    "project stop",
    "project bind_channel",
    "global status",
    "resource status",
)
READS = {"backlog view", "sprint status", "state", "project list", "global status"}
READS |= {"resource status", "tdd status", "tdd logs", "tdd overview", "tdd metrics"}

# The /tdd commands (reference-spec §2) against the Scrum states: reads anywhere, steering while
# a sprint exists, /tdd start while it runs or is paused, /tdd halt_all also pauses the sprint.
STEERABLE = (S.SPRINT_ACTIVE, S.SPRINT_PAUSED, S.BLOCKED)
TDD_REFERENCE: dict[str, dict[S, S]] = {
    **{f"tdd {r}": {s: s for s in ALL} for r in ("status", "logs", "overview", "metrics")},
    "tdd start": {S.SPRINT_ACTIVE: S.SPRINT_ACTIVE, S.SPRINT_PAUSED: S.SPRINT_PAUSED},
    **{
        f"tdd {c}": {s: s for s in STEERABLE}
        for c in ("pause", "resume", "abort", "skip_phase", "run_tests")
    },
    "tdd halt_all": {
        S.SPRINT_ACTIVE: S.SPRINT_PAUSED,
        S.SPRINT_PAUSED: S.SPRINT_PAUSED,
        S.BLOCKED: S.BLOCKED,
    },
}
# Manual advance verbs: phases advance only on recorded gate evidence, so they are refused.
ADVANCE = ["next", "design", "test", "code", "refactor", "commit", "commit_tests", "commit_code"]
ADVANCE += ["commit_refactor", "design_complete", "tests_ready", "code_green", "refactor_done"]
ADVANCE += ["review_cycle"]
TDD_ROLES = {
    "tdd status": Role.VIEWER,
    "tdd logs": Role.VIEWER,
    "tdd overview": Role.VIEWER,
    "tdd metrics": Role.VIEWER,
    "tdd start": Role.MEMBER,
    "tdd pause": Role.MEMBER,
    "tdd resume": Role.MEMBER,
    "tdd run_tests": Role.MEMBER,
    "tdd abort": Role.APPROVER,
    "tdd skip_phase": Role.APPROVER,
    "tdd halt_all": Role.APPROVER,
}

PROJECT_COMMANDS = [c for c in COMMANDS.values() if c.scope == "project"]
PAIRS = [(c, s) for c in PROJECT_COMMANDS for s in S]


def test_every_reference_command_is_in_the_table() -> None:
    tdd = set(TDD_REFERENCE) | {f"tdd {v}" for v in ADVANCE}
    missing = (set(REFERENCE) | set(REFERENCE_GLOBAL) | tdd) - set(COMMANDS)
    assert not missing


@pytest.mark.parametrize("name", sorted(TDD_REFERENCE))
def test_tdd_command_states_and_roles(name: str) -> None:
    command = COMMANDS[name]
    assert command.scope == "project"
    assert dict(command.transitions) == TDD_REFERENCE[name]
    assert command.role is TDD_ROLES[name]
    assert command.mutating is (name not in READS)


@pytest.mark.parametrize("verb", ADVANCE)
def test_manual_advance_verbs_are_refused_everywhere_naming_the_override(verb: str) -> None:
    command = COMMANDS[f"tdd {verb}"]
    assert not command.allowed_from
    assert not command.mutating
    assert "skip_phase" in command.help
    for state in S:
        message = _message(command.name, state)
        assert message.startswith(f"/tdd {verb} is not allowed in state {state.value}.")
        assert "only on gate evidence" in message
        assert "/tdd skip_phase <story> <justification> (approver)" in message
        assert "/tdd run_tests" in message
        assert command.name not in allowed_commands(state)


def test_tdd_commands_live_in_one_group() -> None:
    tdd = [c for c in COMMANDS.values() if c.path[0] == "tdd"]
    assert len(tdd) == len(TDD_REFERENCE) + len(ADVANCE)
    assert all(len(c.path) == 2 for c in tdd)


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_project_command_transitions_match_the_reference(name: str) -> None:
    command = COMMANDS[name]
    assert command.scope == "project"
    assert dict(command.transitions) == REFERENCE[name]
    assert command.allowed_from == frozenset(REFERENCE[name])


@pytest.mark.parametrize("name", REFERENCE_GLOBAL)
def test_global_commands_have_no_state(name: str) -> None:
    command = COMMANDS[name]
    assert command.scope == "global"
    assert not command.transitions
    assert all(check_command(command, s) is None for s in S)


def test_every_transition_stays_inside_the_seven_states() -> None:
    for command in COMMANDS.values():
        assert set(command.transitions) <= ALL
        assert set(command.transitions.values()) <= ALL
        assert set(command.hints) <= ALL


def test_reads_do_not_mutate_and_never_change_state() -> None:
    for name in READS:
        command = COMMANDS[name]
        assert not command.mutating, name
        assert all(to == frm for frm, to in command.transitions.items()), name


@pytest.mark.parametrize("command", COMMANDS.values(), ids=lambda c: c.name)
def test_args_json_schema_is_generatable(command: Command) -> None:
    schema = command.args.model_json_schema()
    assert schema["type"] == "object"
    assert command.help
    assert command.path == tuple(command.name.split(" "))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("/sprint  plan", "sprint plan"),
        ("sprint plan", "sprint plan"),
        ("  /backlog   add_story ", "backlog add_story"),
        ("/state", "state"),
        ("/project/register", "project register"),
    ],
)
def test_get_command_normalises_names(raw: str, expected: str) -> None:
    command = get_command(raw)
    assert command is not None
    assert command.name == expected


@pytest.mark.parametrize("raw", ["", "/", "sprint", "sprint planx", "/nope", "backlog add"])
def test_get_command_unknown_is_none(raw: str) -> None:
    assert get_command(raw) is None


def test_command_names_by_scope() -> None:
    assert set(command_names()) == set(COMMANDS)
    assert set(command_names("project")) | set(command_names("global")) == set(COMMANDS)
    assert set(command_names("global")) == set(REFERENCE_GLOBAL)


@pytest.mark.parametrize("state", S)
def test_allowed_commands_in_table_order(state: S) -> None:
    expected = tuple(c.name for c in PROJECT_COMMANDS if state in c.allowed_from)
    assert allowed_commands(state) == expected
    assert "state" in allowed_commands(state)


@pytest.mark.parametrize(("command", "state"), PAIRS, ids=[f"{c.name}-{s}" for c, s in PAIRS])
def test_check_command(command: Command, state: S) -> None:
    refusal = check_command(command, state)
    if state in command.allowed_from:
        assert refusal is None
        return
    assert isinstance(refusal, Refusal)
    assert refusal.command == command.name
    assert refusal.state is state
    assert f"/{command.name}" in refusal.message
    assert state.value in refusal.message
    assert refusal.allowed == allowed_commands(state)
    assert command.name not in refusal.allowed
    hint = command.hints.get(state)
    if hint is not None:
        assert refusal.message.endswith(hint)
    else:
        allowed_in = ", ".join(sorted(s.value for s in command.allowed_from))
        assert refusal.message.endswith(f"It is allowed in: {allowed_in}.")


def _message(name: str, state: S) -> str:
    refusal = check_command(COMMANDS[name], state)
    assert refusal is not None
    return refusal.message


def test_reference_hint_sprint_start_in_idle() -> None:
    assert _message("sprint start", S.IDLE).endswith(
        "No sprint planned. Use /epic then /sprint plan first."
    )


def test_reference_hint_epic_during_active_sprint() -> None:
    # Worded differently on purpose: the reference says "Use /sprint pause first", but /epic
    # is refused in SPRINT_PAUSED too, so that advice would lead to a second refusal.
    message = _message("epic", S.SPRINT_ACTIVE).lower()
    assert "cannot create an epic during an active sprint" in message
    assert "/epic" not in allowed_commands(S.SPRINT_PAUSED)


@pytest.mark.parametrize(
    "name", ["backlog view", "backlog add_story", "backlog remove", "backlog prioritize"]
)
def test_reference_hint_backlog_edits_in_review(name: str) -> None:
    assert "/feedback or /request_changes first" in _message(name, S.SPRINT_REVIEW)


def test_generic_hint_lists_the_allowed_states() -> None:
    message = _message("suggest_fix", S.IDLE)
    assert message == "/suggest_fix is not allowed in state IDLE. It is allowed in: BLOCKED."


def test_system_events_follow_the_reference() -> None:
    assert SYSTEM_EVENTS == {
        SystemEvent.TASK_BLOCKED: {S.SPRINT_ACTIVE: S.BLOCKED},
        SystemEvent.SPRINT_COMPLETED: {S.SPRINT_ACTIVE: S.SPRINT_REVIEW},
    }
    for event in SystemEvent:
        for state in S:
            assert check_system_event(event, state) == SYSTEM_EVENTS[event].get(state)


# --- the machine as a graph ------------------------------------------------------------


def _moves(state: S) -> list[tuple[str, S]]:
    """Every (command or system event, next state) possible from `state`."""
    moves = [(c.name, c.result_state(state)) for c in PROJECT_COMMANDS if state in c.allowed_from]
    moves += [(e.value, to) for e in SystemEvent if (to := check_system_event(e, state))]
    return moves


def test_every_state_is_reachable_from_idle() -> None:
    seen, queue = {S.IDLE}, deque([S.IDLE])
    while queue:
        for _, nxt in _moves(queue.popleft()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    assert seen == ALL


def test_idle_is_reachable_from_every_state() -> None:
    """No dead end: from anywhere, some path closes the sprint."""
    for start in S:
        seen, queue = {start}, deque([start])
        while queue:
            for _, nxt in _moves(queue.popleft()):
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        assert S.IDLE in seen, start


STEPS = st.one_of(st.sampled_from(sorted(COMMANDS)), st.sampled_from(list(SystemEvent)))


@settings(database=None)
@given(st.sampled_from(list(S)), st.lists(STEPS, max_size=100))
def test_random_commands_never_leave_the_machine(start: S, steps: list[str]) -> None:
    """Apply any sequence of commands and system events through the table: a refused step
    leaves the state alone, an allowed one lands in one of the seven states."""
    state = start
    for step in steps:
        if isinstance(step, SystemEvent):
            state = check_system_event(step, state) or state
            assert state in ALL
            continue
        command = COMMANDS[step]
        refusal = check_command(command, state)
        if command.scope == "global":
            assert refusal is None
        elif state in command.allowed_from:
            assert refusal is None
            state = command.result_state(state)
        else:
            assert refusal is not None
            assert refusal.allowed == allowed_commands(state)
            with pytest.raises(KeyError):
                command.result_state(state)
        assert state in ALL


@settings(database=None)
@given(st.lists(st.integers(min_value=0, max_value=1_000), max_size=200))
def test_random_walks_from_idle_stay_inside_the_seven_states(choices: list[int]) -> None:
    state = S.IDLE
    for choice in choices:
        moves = _moves(state)
        assert moves, f"dead end in {state}"
        name, state = moves[choice % len(moves)]
        assert state in ALL, name
