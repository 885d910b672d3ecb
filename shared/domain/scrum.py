"""The Scrum state machine: which command may run in which state, and where it leads.

Pure functions over the command table. Automatic transitions (a task blocked, every sprint
story done) are system events, not user commands, and live here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.domain.commands import COMMANDS, Command
from shared.domain.models import ScrumState

__all__ = [
    "SYSTEM_EVENTS",
    "Refusal",
    "SystemEvent",
    "allowed_commands",
    "check_command",
    "check_system_event",
]


class SystemEvent(StrEnum):
    """Transitions the orchestrator makes on its own, from recorded evidence."""

    TASK_BLOCKED = "task_blocked"
    SPRINT_COMPLETED = "sprint_completed"


SYSTEM_EVENTS: dict[SystemEvent, dict[ScrumState, ScrumState]] = {
    SystemEvent.TASK_BLOCKED: {ScrumState.SPRINT_ACTIVE: ScrumState.BLOCKED},
    SystemEvent.SPRINT_COMPLETED: {ScrumState.SPRINT_ACTIVE: ScrumState.SPRINT_REVIEW},
}


@dataclass(frozen=True)
class Refusal:
    """Why a command cannot run now, and what can."""

    command: str
    state: ScrumState
    message: str
    allowed: tuple[str, ...]


def allowed_commands(state: ScrumState) -> tuple[str, ...]:
    """Project commands allowed in `state`, in table order."""
    return tuple(
        c.name for c in COMMANDS.values() if c.scope == "project" and state in c.allowed_from
    )


def check_command(command: Command, state: ScrumState) -> Refusal | None:
    """None when `command` may run in `state`, else a refusal naming the alternatives."""
    if command.scope != "project" or state in command.allowed_from:
        return None
    hint = command.hints.get(state) or _generic_hint(command)
    message = f"/{command.name} is not allowed in state {state.value}. {hint}"
    return Refusal(command.name, state, message, allowed_commands(state))


def check_system_event(event: SystemEvent, state: ScrumState) -> ScrumState | None:
    """The state `event` leads to from `state`, or None when it does not apply there."""
    return SYSTEM_EVENTS[event].get(state)


def _generic_hint(command: Command) -> str:
    states = ", ".join(sorted(s.value for s in command.allowed_from))
    return f"It is allowed in: {states}."
