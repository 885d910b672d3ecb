"""The `/tdd` entries of the command table: inspect and steer the TDD cycles of sprint stories.

Agents drive the phases; a phase advances only when its gate passes on evidence the
orchestrator recorded itself. So the reference's manual advance verbs (`/tdd next`, `/tdd code`,
`/tdd tests_ready`, ...) stay in the table, allowed in no state: whoever types one learns what
the orchestrator does instead, that `/tdd skip_phase` (approver) is the override, and that
`/tdd run_tests` re-runs the current phase.
"""

from __future__ import annotations

from shared.domain import args as a
from shared.domain import args_tdd as t
from shared.domain.command_spec import ALL_STATES, Command, Role, same
from shared.domain.models import ScrumState as S

__all__ = ["ADVANCE_VERBS", "TDD_TABLE"]

_SPRINT = frozenset({S.SPRINT_ACTIVE, S.SPRINT_PAUSED})
_STEERABLE = _SPRINT | {S.BLOCKED}
_NO_SPRINT = "No sprint is running, so there is no TDD cycle to steer."
_REVIEWING = "Every sprint story is finished; review the sprint with /feedback or /request_changes."
_STEER_HINTS = {
    S.IDLE: _NO_SPRINT,
    S.BACKLOG_READY: _NO_SPRINT,
    S.SPRINT_PLANNED: "The sprint is planned but not started. Start it with /sprint start.",
    S.SPRINT_REVIEW: _REVIEWING,
}
_START_HINTS = {
    **_STEER_HINTS,
    S.IDLE: "No sprint is running. Plan one with /sprint plan, then /sprint start.",
    S.BACKLOG_READY: "No sprint is running. Plan one with /sprint plan, then /sprint start.",
    S.BLOCKED: "A story is blocked; decide it with /suggest_fix or /skip_task first.",
}

# What the orchestrator does instead of each manual advance verb of the reference.
ADVANCE_VERBS: dict[str, str] = {
    "next": "moves every phase on by itself as soon as its gate passes",
    "design": "runs DESIGN with the design agent as soon as the cycle starts",
    "test": "moves DESIGN → TEST_RED once a design note is written",
    "code": "moves TEST_RED → CODE_GREEN once new tests fail by assertion",
    "refactor": "moves CODE_GREEN → REFACTOR once the RED tests pass",
    "commit": "moves REFACTOR → COMMIT once the whole suite stays green",
    "commit_tests": "commits the tests itself when the TEST_RED gate passes",
    "commit_code": "commits the code itself when the CODE_GREEN gate passes",
    "commit_refactor": "commits the refactoring itself when the REFACTOR gate passes",
    "design_complete": "moves DESIGN → TEST_RED once a design note is written",
    "tests_ready": "moves TEST_RED → CODE_GREEN once new tests fail by assertion",
    "code_green": "moves CODE_GREEN → REFACTOR once the RED tests pass",
    "refactor_done": "moves REFACTOR → COMMIT once the whole suite stays green",
    "review_cycle": "reviews every phase on its gate; /tdd status shows the evidence",
}


def _advance_hint(what: str) -> str:
    return (
        f"Phases advance only on gate evidence the orchestrator records itself; it {what}. "
        "Override a gate: /tdd skip_phase <story> <justification> (approver). "
        "Re-run the current phase: /tdd run_tests [story]. See the evidence: /tdd status [story]."
    )


def _advance_verb(verb: str, what: str) -> Command:
    hint = _advance_hint(what)
    return Command(
        f"tdd {verb}",
        f"Not a manual step here: the orchestrator {what}. Refused in every state; "
        "use /tdd skip_phase (approver) to override a gate, /tdd run_tests to re-run a phase.",
        a.NoArgs,
        mutating=False,
        hints=dict.fromkeys(ALL_STATES, hint),
    )


def _read(name: str, help_text: str, args: type[a.CommandArgs]) -> Command:
    return Command(
        name, help_text, args, transitions=same(ALL_STATES), role=Role.VIEWER, mutating=False
    )


def _steer(name: str, help_text: str, args: type[a.CommandArgs], role: Role) -> Command:
    return Command(
        name, help_text, args, transitions=same(_STEERABLE), role=role, hints=_STEER_HINTS
    )


_READS = (
    _read(
        "tdd status",
        "Show a story's TDD cycle (default: every active cycle): phase, status, attempts, "
        "and per phase the evidence the gate judged (tests, exit code, durations, output "
        "tail, commit).",
        t.TddStoryArgs,
    ),
    _read(
        "tdd logs",
        "The timeline events of a story's cycle (default: of every cycle), newest page first.",
        t.TddLogsArgs,
    ),
    _read(
        "tdd overview",
        "Every story of the sprint with its cycle's phase, status and attempts, one row each.",
        t.TddOverviewArgs,
    ),
    _read(
        "tdd metrics",
        "TDD metrics of recent sprints: cycles done, blocked and active, attempts and gate "
        "refusals per phase, mean time per phase.",
        t.TddMetricsArgs,
    ),
)

_STEERING = (
    Command(
        "tdd start",
        "Start a TDD cycle for a story of the current sprint now (the scheduler starts the "
        "others in order); also restarts a story whose cycle was aborted.",
        t.TddStartArgs,
        transitions=same(_SPRINT),
        hints=_START_HINTS,
    ),
    _steer(
        "tdd pause",
        "Pause a story's cycle: no new phase starts; a running phase finishes its attempt and "
        "is recorded without moving on.",
        t.TddStoryArgs,
        Role.MEMBER,
    ),
    _steer(
        "tdd resume",
        "Resume a paused cycle (or every paused cycle with --all): its current phase runs again.",
        t.TddResumeArgs,
        Role.MEMBER,
    ),
    Command(
        "tdd halt_all",
        "Emergency stop: pause every active cycle and the sprint. Undo with /sprint resume, "
        "then /tdd resume --all.",
        a.NoArgs,
        transitions={
            S.SPRINT_ACTIVE: S.SPRINT_PAUSED,
            S.SPRINT_PAUSED: S.SPRINT_PAUSED,
            S.BLOCKED: S.BLOCKED,
        },
        role=Role.APPROVER,
        hints=_STEER_HINTS,
    ),
    _steer(
        "tdd abort",
        "End a story's cycle for good; the story stays in the sprint until /tdd start "
        "begins a new cycle. Its branch is kept.",
        t.TddStoryArgs,
        Role.APPROVER,
    ),
    _steer(
        "tdd skip_phase",
        "Override: move a cycle past its current phase without the gate, with a "
        "justification recorded in the timeline.",
        t.TddSkipPhaseArgs,
        Role.APPROVER,
    ),
    _steer(
        "tdd run_tests",
        "Re-run the current phase now: a fresh job runs it and its gate judges new evidence. "
        "The manual advance verbs are refused; this is what they can ask for.",
        t.TddStoryArgs,
        Role.MEMBER,
    ),
)

TDD_TABLE: tuple[Command, ...] = (
    *_READS,
    *_STEERING,
    *(_advance_verb(verb, what) for verb, what in ADVANCE_VERBS.items()),
)
