"""The Scrum state machine under random command sequences, through the real command path
(`execute`, what the API, CLI and Discord run) on real Redis.

Each example starts from a project walked into one of the Scrum states by real commands, then
runs commands of the table with plausible arguments (ids of the project's own stories, sprint
and approvals, and now and then a missing one) as users of every role, and the orchestrator's
own transitions (a story blocked, a story done). After every step:

- the stored state is one of ScrumState;
- a refused command left every key of the project byte-identical, and its error names what may
  run: for a state refusal exactly the commands the state allows, otherwise only commands the
  state allows (or global ones);
- an accepted command led to exactly the table's state (or one system transition on: finishing
  the sprint's last story, or blocking one), its version grew by one, and a read changed nothing;
- no stored document disappeared and no version went down.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test
from pydantic import ValidationError

from shared.domain.commands import COMMANDS, Role
from shared.domain.commands_tdd import ADVANCE_VERBS
from shared.domain.models import Project, ScrumState, Sprint
from shared.domain.scrum import SystemEvent, allowed_commands, check_system_event
from shared.platform.errors import AppError, Forbidden, InvalidTransition
from shared.state import keys
from shared.state.store import Store
from shared.workflow import system
from shared.workflow.context import Actor, CommandOutcome
from tests.factories import make_project_in_state, run
from tests.fuzz.dump import KeyDump, dump_project
from tests.fuzz.sync_store import SyncStore

pytestmark = pytest.mark.integration

_ADVANCE = [n for n in COMMANDS if n.removeprefix("tdd ") in ADVANCE_VERBS]  # always refused
_OTHERS = [c for c in COMMANDS.values() if c.scope == "project" and c.name not in _ADVANCE]
# Hypothesis draws the first entries of a list far more often than the rest: the cheap read
# first, then the commands that move the machine, the other ones, the advance verbs last.
PROJECT_COMMANDS = list(
    dict.fromkeys(
        [
            "state",
            *(c.name for c in _OTHERS if any(a != b for a, b in c.transitions.items())),
            *(c.name for c in _OTHERS),
            *_ADVANCE,
        ]
    )
)
# the states with the most to do first, for the same reason
START_STATES = [
    ScrumState.SPRINT_ACTIVE,
    ScrumState.BLOCKED,
    ScrumState.SPRINT_PAUSED,
    ScrumState.SPRINT_REVIEW,
    ScrumState.SPRINT_PLANNED,
    ScrumState.BACKLOG_READY,
    ScrumState.IDLE,
]
GLOBAL_COMMANDS = frozenset(c.name for c in COMMANDS.values() if c.scope == "global")
MISSING = "story-00000000"  # an id no story has
ACTORS = [Actor(f"{r.name.lower()}-user", r) for r in Role]
# commands whose result can go one system transition further: finishing the sprint's last
# story (on to SPRINT_REVIEW), or rejecting a result its story's last attempt (to BLOCKED)
FOLLOW_UPS = {
    "skip_task": SystemEvent.SPRINT_COMPLETED,
    "tdd skip_phase": SystemEvent.SPRINT_COMPLETED,
    "sprint resume": SystemEvent.SPRINT_COMPLETED,
    "reject": SystemEvent.TASK_BLOCKED,
}
TEXT = st.sampled_from(["Add login", "x", "  padded  ", "Ünïcode ✓", "a" * 200])


@dataclass(frozen=True)
class Ids:
    """The ids a project holds now, to draw plausible arguments from."""

    stories: list[str]
    backlog: list[str]
    proposed: list[str]
    pending: list[str]  # approvals
    sprint: list[str]  # stories of the current sprint


async def ids_of(store: Store, project_id: str) -> Ids:
    async def index(kind: Any) -> list[str]:
        return list(await store.redis.zrange(keys.index(project_id, kind), 0, -1))

    project = await store.get(Project, keys.project(project_id))
    sprint = None
    if project is not None and project.active_sprint_id:
        key = keys.entity(project_id, "sprint", project.active_sprint_id)
        sprint = await store.get(Sprint, key)
    return Ids(
        stories=await index("stories"),
        backlog=await index("backlog"),
        proposed=await index("proposed"),
        pending=await index("approvals:pending"),
        sprint=list(sprint.story_ids) if sprint else [],
    )


def one_of_ids(pool: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from([*pool, MISSING])


def story_args(pool: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(st.just({}), one_of_ids(pool).map(lambda i: {"story_id": i}))


def args_for(name: str, ids: Ids) -> st.SearchStrategy[dict[str, Any]]:
    deciding = ids.proposed + ids.pending
    builders: dict[str, st.SearchStrategy[dict[str, Any]]] = {
        "epic": st.fixed_dictionaries(
            {"description": TEXT, "stories": st.lists(st.builds(dict, title=TEXT), max_size=3)}
        ),
        "approve": st.one_of(
            st.just({}), st.lists(one_of_ids(deciding), min_size=1, max_size=2).map(_ids)
        ),
        "reject": st.lists(one_of_ids(deciding), min_size=1, max_size=2).map(
            lambda i: {"ids": i, "reason": "not now"}
        ),
        "backlog view": st.sampled_from([{}, {"status": "all"}, {"status": "sprint"}]),
        "backlog add_story": st.builds(dict, title=TEXT),
        "backlog remove": one_of_ids(ids.stories).map(lambda i: {"story_id": i}),
        "backlog prioritize": st.builds(
            dict,
            story_id=one_of_ids(ids.stories),
            priority=st.sampled_from(["top", "high", "medium", "low"]),
        ),
        "sprint plan": st.one_of(
            st.just({}),
            st.lists(one_of_ids(ids.backlog), min_size=1, max_size=3, unique=True).map(
                lambda i: {"story_ids": i, "goal": "ship"}
            ),
        ),
        "tdd start": one_of_ids(ids.sprint).map(lambda i: {"story_id": i}),
        "tdd resume": st.one_of(story_args(ids.sprint), st.just({"all": True})),
        "tdd skip_phase": one_of_ids(ids.sprint).map(
            lambda i: {"story_id": i, "justification": "agreed in review"}
        ),
    }
    for name_ in ("request_changes", "feedback", "suggest_fix"):
        builders[name_] = st.builds(dict, description=TEXT)
    for name_ in ("tdd pause", "tdd abort", "tdd run_tests", "tdd status"):
        builders[name_] = story_args(ids.sprint)
    return builders.get(name, st.just({}))


def _ids(chosen: list[str]) -> dict[str, Any]:
    return {"ids": chosen}


def versions(dump: KeyDump) -> dict[str, int]:
    """The version of every stored JSON document of a dump."""
    found = {}
    for key, (kind, (value, _)) in dump.items():
        if kind == "string" and isinstance(value, str) and value.startswith("{"):
            version = json.loads(value).get("version")
            if isinstance(version, int):
                found[key] = version
    return found


class ScrumMachine(RuleBasedStateMachine):
    db: ClassVar[SyncStore]

    def __init__(self) -> None:
        super().__init__()
        self.db.flush()
        self.pid = ""
        self.versions: dict[str, int] = {}

    @initialize(state=st.sampled_from(START_STATES))
    def project_in(self, state: ScrumState) -> None:
        self.pid = self.db.run(make_project_in_state(self.db.store, state))
        self.versions = versions(self.dump())

    def dump(self) -> KeyDump:
        return self.db.run(dump_project(self.db.store.redis, self.pid))

    def project(self) -> Project:
        project = self.db.run(self.db.store.get(Project, keys.project(self.pid)))
        assert project is not None
        return project

    @rule(name=st.sampled_from(PROJECT_COMMANDS), data=st.data())
    def command(self, name: str, data: st.DataObject) -> None:
        """Any command, by a user of any role."""
        actor = data.draw(st.sampled_from(ACTORS[::-1] + [ACTORS[-1]] * 4), label="actor")
        self.run_command(name, actor, data)

    @rule(data=st.data())
    def fitting_command(self, data: st.DataObject) -> None:
        """A command the table allows in the current state (a random one rarely is), by an
        admin: these are the steps that move the machine."""
        allowed = allowed_commands(self.project().state)
        self.run_command(data.draw(st.sampled_from(allowed), label="name"), ACTORS[-1], data)

    def run_command(self, name: str, actor: Actor, data: st.DataObject) -> None:
        ids = self.db.run(ids_of(self.db.store, self.pid))
        args = data.draw(args_for(name, ids), label="args")
        before, project = self.dump(), self.project()
        outcome: CommandOutcome | Exception
        try:
            outcome = self.db.run(run(self.db.store, name, args, project_id=self.pid, actor=actor))
        except (AppError, ValidationError) as exc:
            outcome = exc
        after = self.dump()
        if isinstance(outcome, Exception):
            assert after == before, f"/{name} was refused ({outcome}) but changed the store"
            self.refused(name, outcome, actor, project.state)
        else:
            self.accepted(name, outcome, actor, project, before == after)
        self.check_versions(after)

    def refused(self, name: str, exc: Exception, actor: Actor, state: ScrumState) -> None:
        command = COMMANDS[name]
        if isinstance(exc, Forbidden):
            assert actor.role < command.role, exc
        elif isinstance(exc, InvalidTransition):
            offered = exc.details["allowed_commands"]
            assert exc.details["state"] == state.value, exc.details
            if exc.message.startswith(f"/{name} is not allowed in state {state.value}"):
                assert state not in command.allowed_from
                assert offered == list(allowed_commands(state)), exc.details
            else:
                assert set(offered) <= set(allowed_commands(state)) | GLOBAL_COMMANDS, (
                    f"/{name} in {state.value} refused offering {offered}: {exc.message}"
                )
        if actor.role >= command.role and state not in command.allowed_from:
            assert isinstance(exc, InvalidTransition | ValidationError), exc

    def accepted(
        self, name: str, outcome: CommandOutcome, actor: Actor, project: Project, unchanged: bool
    ) -> None:
        command = COMMANDS[name]
        assert actor.role >= command.role
        assert project.state in command.allowed_from, f"/{name} ran in {project.state}"
        assert outcome.from_state == project.state.value
        expected = command.result_state(project.state)
        to_state = ScrumState(outcome.to_state or "")
        if to_state is not expected:
            assert name in FOLLOW_UPS, (name, expected, to_state)
            assert to_state is check_system_event(FOLLOW_UPS[name], expected)
        stored = self.project()
        assert stored.state is to_state
        if command.mutating:
            assert stored.version == outcome.project_version == project.version + 1
        else:
            assert unchanged, f"the read /{name} changed the store"

    @rule(data=st.data(), complete=st.booleans())
    def orchestrator(self, data: st.DataObject, complete: bool) -> None:
        """A worker's transition: a story blocked after three refusals, or a story done."""
        ids = self.db.run(ids_of(self.db.store, self.pid))
        story_id = data.draw(one_of_ids(ids.sprint or ids.stories), label="story")
        before, project = self.dump(), self.project()
        event = SystemEvent.SPRINT_COMPLETED if complete else SystemEvent.TASK_BLOCKED
        store = self.db.store
        stored: Project | AppError
        try:
            if complete:
                stored = self.db.run(system.complete_story(store, self.pid, story_id))
            else:
                stored = self.db.run(system.block_story(store, self.pid, story_id, "3 refusals"))
        except AppError as exc:
            stored = exc
        after = self.dump()
        if isinstance(stored, AppError):
            assert after == before, f"{event} was refused ({stored}) but changed the store"
        else:
            assert stored.state in (project.state, check_system_event(event, project.state))
            assert stored.version == project.version + 1
        self.check_versions(after)

    def check_versions(self, dump: KeyDump) -> None:
        now = versions(dump)
        gone = set(self.versions) - set(now)
        assert not gone, f"documents disappeared: {sorted(gone)}"
        lower = {k: (v, now[k]) for k, v in self.versions.items() if now[k] < v}
        assert not lower, f"versions went down: {lower}"
        raw = dump[keys.project(self.pid)][1][0]
        assert json.loads(raw)["state"] in ScrumState.__members__
        self.versions = now


@pytest.mark.timeout(300)
def test_no_command_sequence_breaks_the_scrum_machine(redis_url: str) -> None:
    with SyncStore(redis_url) as db:
        ScrumMachine.db = db
        run_state_machine_as_test(
            ScrumMachine,
            settings=settings(
                max_examples=60,
                stateful_step_count=30,
                derandomize=True,
                database=None,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
                phases=(Phase.explicit, Phase.generate),  # shrinking on real Redis takes minutes
            ),
        )
