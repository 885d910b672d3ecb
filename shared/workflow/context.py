"""What a command handler gets and what the executor returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from shared.domain.commands import Role
from shared.domain.models import ProjectMode

if TYPE_CHECKING:
    from shared.domain.args import CommandArgs
    from shared.domain.models import Project
    from shared.domain.scrum import SystemEvent
    from shared.jobs.specs import JobSpec
    from shared.state.store import Transaction
    from shared.state.timeline import TimelineEvent

__all__ = ["Actor", "CommandContext", "CommandOutcome", "CommandRequest", "Limits"]


@dataclass(frozen=True)
class Actor:
    """Who asked: a user name (or `system`) and the role they hold."""

    name: str
    role: Role


@dataclass(frozen=True)
class Limits:
    """The settings the workflow needs, kept apart from how they are loaded."""

    max_concurrent_projects: int = 3
    default_mode: ProjectMode = ProjectMode.BLOCKING
    decision_fsync_timeout_ms: int = 2_000  # WAITAOF bound before a decision answers 503


@dataclass(frozen=True)
class CommandRequest:
    """`if_match` guards the project's version; `entity_match` (key, version) another document's."""

    command: str
    args: dict[str, Any] | CommandArgs
    actor: Actor
    project_id: str | None = None
    idempotency_key: str | None = None
    if_match: int | None = None
    entity_match: tuple[str, int] | None = None


@dataclass
class CommandContext:
    """Handed to a mutating handler inside the project's transaction."""

    tx: Transaction
    project: Project
    actor: Actor
    limits: Limits
    follow_up: SystemEvent | None = None
    extra_events: list[TimelineEvent] = field(default_factory=list)
    jobs: list[JobSpec] = field(default_factory=list)


@dataclass(frozen=True)
class CommandOutcome:
    command: str
    project_id: str | None
    from_state: str | None
    to_state: str | None
    project_version: int | None
    result: dict[str, Any]
    status_code: int = 200
    replayed: bool = False
    jobs: tuple[JobSpec, ...] = ()

    def body(self) -> dict[str, Any]:
        return {
            "command": self.command,
            "project_id": self.project_id,
            "from_state": self.from_state,
            "to_state": self.to_state,
            "project_version": self.project_version,
            "result": self.result,
        }
