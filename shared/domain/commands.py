"""The command table: the single source every surface renders from.

Each `Command` names its arguments (a pydantic model), the Scrum states it is allowed from and
the state it leads to, the role it needs, and its help text. The API validates and dispatches
with it, the CLI builds its subcommands from it, Discord its slash commands, the board its
buttons. The Scrum commands are listed here, the `/tdd` commands in `commands_tdd`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from shared.domain import args as a
from shared.domain.command_spec import ALL_STATES, Command, Role, Scope, same
from shared.domain.commands_context import CONTEXT_TABLE
from shared.domain.commands_tdd import TDD_TABLE
from shared.domain.models import ScrumState as S

__all__ = ["COMMANDS", "Command", "Role", "Scope", "command_names", "get_command"]

_BACKLOG_STATES = ALL_STATES - {S.SPRINT_REVIEW}
_DECIDING_STATES = ALL_STATES  # proposals, phase results, budget holds and merges wait anywhere
_REVIEW_HINT = "Complete the sprint review with /feedback or /request_changes first."
_BACKLOG_HINTS = {S.SPRINT_REVIEW: _REVIEW_HINT}

_SCRUM_TABLE: tuple[Command, ...] = (
    Command(
        "epic",
        "Create an epic (optionally with proposed stories that wait for /approve).",
        a.EpicArgs,
        transitions={S.IDLE: S.BACKLOG_READY, S.BACKLOG_READY: S.BACKLOG_READY},
        hints={
            S.SPRINT_ACTIVE: "Cannot create an epic during an active sprint; finish the sprint first.",
            S.SPRINT_PAUSED: "Cannot create an epic while a sprint is paused; resume and finish it first.",
            S.SPRINT_PLANNED: "A sprint is planned; start it, or add stories with /backlog add_story.",
            S.SPRINT_REVIEW: _REVIEW_HINT,
        },
    ),
    Command(
        "approve",
        "Approve proposed stories and, in blocking mode, phase results waiting for a human "
        "(no ids approves everything pending).",
        a.ApproveArgs,
        transitions=same(_DECIDING_STATES),
        role=Role.APPROVER,
        hints={S.IDLE: "Nothing to approve. Create an epic with /epic first."},
    ),
    Command(
        "reject",
        "Reject proposed stories or phase results, with a reason for the record (a rejected "
        "phase result is retried with the reason).",
        a.RejectArgs,
        transitions=same(_DECIDING_STATES),
        role=Role.APPROVER,
        hints={S.IDLE: "Nothing to reject. Create an epic with /epic first."},
    ),
    Command(
        "backlog view",
        "Show the backlog in priority order, or one story in full.",
        a.BacklogViewArgs,
        transitions=same(_BACKLOG_STATES),
        role=Role.VIEWER,
        mutating=False,
        hints=_BACKLOG_HINTS,
    ),
    Command(
        "backlog add_story",
        "Add a story to the backlog.",
        a.BacklogAddStoryArgs,
        transitions=same(_BACKLOG_STATES),
        hints=_BACKLOG_HINTS,
    ),
    Command(
        "backlog remove",
        "Remove a story from the backlog.",
        a.BacklogRemoveArgs,
        transitions=same(_BACKLOG_STATES),
        hints=_BACKLOG_HINTS,
    ),
    Command(
        "backlog prioritize",
        "Change a story's priority: top, high, medium or low.",
        a.BacklogPrioritizeArgs,
        transitions=same(_BACKLOG_STATES),
        hints=_BACKLOG_HINTS,
    ),
    Command(
        "sprint plan",
        "Plan a sprint from the given stories, or from the top of the backlog.",
        a.SprintPlanArgs,
        transitions={S.BACKLOG_READY: S.SPRINT_PLANNED},
        hints={
            S.IDLE: "No backlog yet. Create an epic with /epic first.",
            S.SPRINT_PLANNED: "A sprint is already planned. Start it with /sprint start.",
            S.SPRINT_ACTIVE: "A sprint is already running. Check it with /sprint status.",
        },
    ),
    Command(
        "sprint start",
        "Start the planned sprint.",
        a.NoArgs,
        transitions={S.SPRINT_PLANNED: S.SPRINT_ACTIVE},
        hints={
            S.IDLE: "No sprint planned. Use /epic then /sprint plan first.",
            S.BACKLOG_READY: "No sprint planned. Use /sprint plan first.",
            S.SPRINT_ACTIVE: "The sprint is already running.",
            S.SPRINT_PAUSED: "The sprint is paused. Use /sprint resume.",
        },
    ),
    Command(
        "sprint status",
        "Show the current sprint's progress.",
        a.NoArgs,
        transitions=same(frozenset({S.SPRINT_ACTIVE, S.SPRINT_PAUSED, S.BLOCKED})),
        role=Role.VIEWER,
        mutating=False,
        hints={
            S.IDLE: "No active sprint.",
            S.SPRINT_PLANNED: "The sprint is planned but not started. Use /sprint start.",
        },
    ),
    Command(
        "sprint pause",
        "Pause the running sprint.",
        a.NoArgs,
        transitions={S.SPRINT_ACTIVE: S.SPRINT_PAUSED},
        hints={S.SPRINT_PAUSED: "The sprint is already paused."},
    ),
    Command(
        "sprint resume",
        "Resume the paused sprint.",
        a.NoArgs,
        transitions={S.SPRINT_PAUSED: S.SPRINT_ACTIVE},
        hints={S.SPRINT_ACTIVE: "The sprint is already running."},
    ),
    Command(
        "request_changes",
        "End the review by sending changes back to the backlog.",
        a.DescriptionArgs,
        transitions={S.SPRINT_REVIEW: S.BACKLOG_READY},
        role=Role.APPROVER,
        hints={S.SPRINT_ACTIVE: "The sprint is still running; wait for its review."},
    ),
    Command(
        "suggest_fix",
        "Give the blocked task a hint and resume the sprint.",
        a.DescriptionArgs,
        transitions={S.BLOCKED: S.SPRINT_ACTIVE},
        role=Role.APPROVER,
        hints={S.SPRINT_ACTIVE: "Nothing is blocked."},
    ),
    Command(
        "skip_task",
        "Skip the blocked task and resume the sprint.",
        a.NoArgs,
        transitions={S.BLOCKED: S.SPRINT_ACTIVE},
        role=Role.APPROVER,
        hints={S.SPRINT_ACTIVE: "Nothing is blocked."},
    ),
    Command(
        "feedback",
        "Close the reviewed sprint with retrospective notes.",
        a.DescriptionArgs,
        transitions={S.SPRINT_REVIEW: S.IDLE},
        role=Role.APPROVER,
        hints={S.SPRINT_ACTIVE: "The sprint is still running; wait for its review."},
    ),
    Command(
        "state",
        "Show the workflow state, allowed commands, pending approvals and active work.",
        a.NoArgs,
        transitions=same(ALL_STATES),
        role=Role.VIEWER,
        mutating=False,
    ),
    Command(
        "project register",
        "Register a git repository as a project.",
        a.ProjectRegisterArgs,
        scope="global",
        role=Role.ADMIN,
    ),
    Command(
        "project list",
        "List projects.",
        a.ProjectListArgs,
        scope="global",
        role=Role.VIEWER,
        mutating=False,
    ),
    Command(
        "project start",
        "Let agents work on a project (bounded by orchestrator.max_concurrent_projects).",
        a.ProjectIdArgs,
        scope="global",
        role=Role.ADMIN,
    ),
    Command(
        "project stop",
        "Stop agent work on a project.",
        a.ProjectIdArgs,
        scope="global",
        role=Role.ADMIN,
    ),
    Command(
        "project bind_channel",
        "Post a project's progress (story threads, blocks, approvals) to a Discord channel.",
        a.ProjectBindChannelArgs,
        scope="global",
        role=Role.ADMIN,
    ),
    Command(
        "global status",
        "Every project's state at a glance.",
        a.ProjectListArgs,
        scope="global",
        role=Role.VIEWER,
        mutating=False,
    ),
    Command(
        "resource status",
        "Active projects against the limit, and queued work.",
        a.NoArgs,
        scope="global",
        role=Role.VIEWER,
        mutating=False,
    ),
)

_TABLE: tuple[Command, ...] = (*_SCRUM_TABLE, *TDD_TABLE, *CONTEXT_TABLE)
COMMANDS: Mapping[str, Command] = MappingProxyType({c.name: c for c in _TABLE})


def command_names(scope: Scope | None = None) -> list[str]:
    return [c.name for c in _TABLE if scope is None or c.scope == scope]


def get_command(name: str) -> Command | None:
    return COMMANDS.get(" ".join(name.replace("/", " ").split()))
