"""The TDD cycle of a story under random sequences of what workers and humans do, through the
real cycle functions on real Redis: a phase job's slot lease, `take` and `record` (gate passed,
refused, or passed and parked for a human in blocking mode), `give_back` and `hand_over`, a
worker dying mid-phase and the scheduler's `requeue`; humans' /tdd pause, resume, skip_phase,
run_tests, abort and start, /suggest_fix and /skip_task, /sprint pause and resume, /approve and
/reject of a parked result. Jobs overlap: a stale or fenced-out job may record late.

After every step:

- the (phase, status) pair is a defined one: DONE only at COMMIT, PAUSED exactly when it knows
  what it was paused from, waiting_for only while waiting (or paused), a parked result exactly
  while its approval is pending; a BLOCKED cycle is the project's blocked story;
- the phase moves only one step forward, and only on a passed gate, an approved result or an
  explicit /tdd skip_phase; DONE only from COMMIT;
- attempts move only as their action says (a take +1, a give-back -1, /suggest_fix to 0);
- a cycle is newly BLOCKED only on a refusal, after three failed attempts of its phase, and the
  third consecutive refusal while the sprint runs blocks it;
- a refused action changes no key.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from shared.domain.models import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Project,
    ScrumState,
    Story,
    StoryStatus,
)
from shared.domain.phases import Phase as TddPhase
from shared.domain.tdd import MAX_ATTEMPTS, NEXT_PHASE, CycleStatus, TDDCycle
from shared.platform.errors import AppError
from shared.state import keys, slots
from shared.workflow import cycles
from shared.workflow.cycles import PhaseOutcome
from tests.factories import APPROVER, make_project_in_state, run, sprint_story_ids
from tests.fuzz.dump import KeyDump, dump_project
from tests.fuzz.sync_store import SyncStore
from tests.integration.tdd_helpers import evidence

pytestmark = pytest.mark.integration

STEERING = [
    "tdd start",
    "tdd pause",
    "tdd resume",
    "tdd skip_phase",
    "tdd run_tests",
    "sprint pause",
    "sprint resume",
    "suggest_fix",
    "approve",
    "reject",
    "tdd abort",
    "skip_task",
]
RESULTS = st.sampled_from(["passed", "refused", "passed", "refused", "parked"])
PHASE_MOVES = frozenset({"record", "approve", "tdd skip_phase"})


@dataclass(frozen=True)
class Snap:
    project: Project
    story: Story
    cycle: TDDCycle | None
    parked: tuple[str, ...]  # pending phase-result approvals of the cycle


class TddMachine(RuleBasedStateMachine):
    db: ClassVar[SyncStore]

    def __init__(self) -> None:
        super().__init__()
        self.db.flush()
        self.pid = ""
        self.story_id = ""
        self.jobs: list[TDDCycle] = []  # cycles as the jobs that took them saw them
        self.failures: Counter[tuple[str, str]] = Counter()  # (cycle, phase): failed attempts
        self.refusals: Counter[tuple[str, str]] = Counter()  # (cycle, phase): in a row
        self.now: Snap | None = None  # after the last step

    @initialize()
    def sprint_with_a_cycle(self) -> None:
        store = self.db.store
        self.pid = self.db.run(make_project_in_state(store, ScrumState.SPRINT_ACTIVE))
        self.story_id = self.db.run(sprint_story_ids(store, self.pid))[0]
        self.db.run(run(store, "tdd start", {"story_id": self.story_id}, project_id=self.pid))
        self.now = self.snap()

    # --- reading --------------------------------------------------------------------------

    def snap(self) -> Snap:
        return self.db.run(self._snap())

    async def _snap(self) -> Snap:
        store = self.db.store
        project = await store.get(Project, keys.project(self.pid))
        story = await store.get(Story, keys.entity(self.pid, "story", self.story_id))
        assert project is not None
        assert story is not None
        cycle = None
        if story.tdd_cycle_id:
            cycle = await store.get(TDDCycle, cycles.cycle_key(self.pid, story.tdd_cycle_id))
        pending = await store.redis.zrange(keys.index(self.pid, "approvals:pending"), 0, -1)
        found = await store.get_many(
            Approval, [keys.entity(self.pid, "approval", i) for i in pending]
        )
        parked = tuple(
            a.id
            for a in found
            if a is not None
            and a.kind is ApprovalKind.PHASE_RESULT
            and a.status is ApprovalStatus.PENDING
            and cycle is not None
            and a.subject_id == cycle.id
        )
        return Snap(project, story, cycle, parked)

    def dump(self) -> KeyDump:
        return self.db.run(dump_project(self.db.store.redis, self.pid))

    # --- the worker -----------------------------------------------------------------------

    @rule(stale=st.booleans())
    def take(self, stale: bool) -> None:
        """A phase job takes its slot (the lease /tdd resume and skip_phase look for), then the
        cycle; a stale job names an older run."""
        cycle = self.snap().cycle
        assert cycle is not None
        run_ = cycle.run - 1 if stale else cycle.run
        held = any((j.id, j.run) == (cycle.id, run_) for j in self.jobs)  # arq runs one per run
        self.lease(cycle.id, run_, hold=True)
        taken = self.step("take", lambda: cycles.take(self.db.store, self.pid, cycle.id, run_))
        if isinstance(taken, TDDCycle):
            self.jobs.append(taken)
        elif not held:
            self.lease(cycle.id, run_, hold=False)

    @rule(result=RESULTS)
    def job(self, result: str) -> None:
        """A whole phase job: it takes the cycle (if it is its turn) and records a result."""
        self.take(stale=False)
        if self.jobs:
            self.finish(self.jobs.pop(), result)

    @precondition(lambda self: self.jobs)
    @rule(data=st.data(), result=RESULTS)
    def record(self, data: st.DataObject, result: str) -> None:
        """One of the jobs in flight (maybe one fenced out by now) records its result."""
        job = self.jobs.pop(data.draw(st.integers(0, len(self.jobs) - 1), label="job"))
        self.finish(job, result)

    def finish(self, job: TDDCycle, result: str) -> None:
        """The gate refused the job's evidence, passed it, or (blocking mode) passed it and
        parked the commit for a human."""
        passed = result != "refused"
        outcome = PhaseOutcome(
            evidence=evidence(job.phase.value, job.attempt(), passed),
            head_sha="a1b2c3d" if passed else None,
            pending_sha="p1b2c3d" if result == "parked" else None,
        )
        self.step("record", lambda: cycles.record(self.db.store, job, outcome), result=result)
        self.lease(job.id, job.run, hold=False)

    @precondition(lambda self: self.jobs)
    @rule(data=st.data(), hand_over=st.booleans())
    def give_back(self, data: st.DataObject, hand_over: bool) -> None:
        """A job returns its phase untouched: the provider was down, or its worker stops."""
        job = self.jobs.pop(data.draw(st.integers(0, len(self.jobs) - 1), label="job"))
        if hand_over:
            self.step("hand_over", lambda: cycles.hand_over(self.db.store, job, "draining"))
        else:
            self.step("give_back", lambda: cycles.give_back(self.db.store, job))
        self.lease(job.id, job.run, hold=False)

    @precondition(lambda self: self.jobs)
    @rule(data=st.data())
    def worker_dies(self, data: st.DataObject) -> None:
        """A job's worker vanishes: its lease lapses, its attempt ends without a result."""
        job = self.jobs.pop(data.draw(st.integers(0, len(self.jobs) - 1), label="job"))
        self.lease(job.id, job.run, hold=False)
        self.failures[(job.id, job.phase.value)] += 1

    @rule()
    def scheduler_requeue(self) -> None:
        """The scheduler retakes a cycle whose job's lease lapsed (RUNNING) or that waited for
        the sprint to run again (WAITING): the same phase under a new run."""
        cycle = self.snap().cycle
        assert cycle is not None
        holder = slots.cycle_holder(cycle.id, cycle.run)
        live = self.db.run(slots.holders(self.db.store.redis, keys.slots(self.pid)))
        orphaned = cycle.status is CycleStatus.RUNNING and holder not in live
        waiting = cycle.status is CycleStatus.WAITING and cycle.waiting_for == "sprint"
        if orphaned or waiting:
            self.step("requeue", lambda: cycles.requeue(self.db.store, self.pid, cycle.id))

    def lease(self, cycle_id: str, run: int, *, hold: bool) -> None:
        redis, key = self.db.store.redis, keys.slots(self.pid)
        holder = slots.cycle_holder(cycle_id, run)
        if hold:
            assert self.db.run(slots.acquire(redis, key, holder, ttl_ms=600_000, limit=1_000))
        else:
            self.db.run(slots.release(redis, key, holder))

    # --- humans ---------------------------------------------------------------------------

    @precondition(lambda self: self.now and self.now.parked)
    @rule()
    def approve_parked(self) -> None:
        """A human approves a result parked for them: the next phase applies it."""
        self.steer("approve")

    @precondition(lambda self: self.now and self.now.parked)
    @rule()
    def reject_parked(self) -> None:
        """A human rejects a parked result: a refused attempt, with their reason."""
        self.steer("reject")

    @precondition(lambda self: self.now and self.now.project.state is ScrumState.BLOCKED)
    @rule(name=st.sampled_from(["suggest_fix", "skip_task"]))
    def unblock(self, name: str) -> None:
        self.steer(name)

    @precondition(
        lambda self: self.now and self.now.cycle and self.now.cycle.status is CycleStatus.ABORTED
    )
    @rule()
    def restart(self) -> None:
        self.steer("tdd start")

    @rule(name=st.sampled_from(STEERING))
    def steer(self, name: str) -> None:
        before = self.snap()
        args: dict[str, Any] = {}
        if name.startswith("tdd "):
            args["story_id"] = self.story_id
        if name == "tdd skip_phase":
            args["justification"] = "agreed in review"
        if name == "suggest_fix":
            args["description"] = "try the other library"
        if name in ("approve", "reject"):
            args["ids"] = list(before.parked) or ["approval-00000000"]
        store, pid = self.db.store, self.pid
        self.step(name, lambda: run(store, name, args, project_id=pid, actor=APPROVER))

    # --- checking -------------------------------------------------------------------------

    def step(
        self, action: str, call: Callable[[], Coroutine[Any, Any, Any]], result: str = ""
    ) -> Any:
        before, dump = self.snap(), self.dump()
        returned: Any
        try:
            returned = self.db.run(call())
        except AppError as exc:
            returned = exc
        after = self.snap()
        if isinstance(returned, AppError) or (action == "take" and returned is None):
            assert self.dump() == dump, f"{action} was refused ({returned}) but changed the store"
        else:
            self.follow(action, before, after, result)
        self.check_defined(after)
        self.now = after
        return returned

    def follow(self, action: str, before: Snap, after: Snap, result: str) -> None:
        b, a = before.cycle, after.cycle
        assert a is not None
        if b is None or a.id != b.id:  # /tdd start after an abort: a fresh cycle
            assert (action, a.phase, a.status, a.run) == (
                "tdd start",
                TddPhase.DESIGN,
                CycleStatus.QUEUED,
                1,
            )
            return
        self.check_phase(action, b, a)
        self.check_attempts(action, b, a, result)
        self.check_blocking(action, before, after, result)

    def check_phase(self, action: str, b: TDDCycle, a: TDDCycle) -> None:
        if a.phase is not b.phase:
            assert action in PHASE_MOVES, f"{action} moved {b.phase} to {a.phase}"
            assert a.phase is NEXT_PHASE[b.phase], f"{action} moved {b.phase} to {a.phase}"
        if a.status is CycleStatus.DONE and b.status is not CycleStatus.DONE:
            assert b.phase is TddPhase.COMMIT, f"{action} finished the cycle at {b.phase}"
            assert action in ("record", "tdd skip_phase"), action

    def check_attempts(self, action: str, b: TDDCycle, a: TDDCycle, result: str) -> None:
        phase = b.phase.value
        others_b = {p: n for p, n in b.attempts.items() if p != phase and n}
        others_a = {p: n for p, n in a.attempts.items() if p != phase and n}
        assert others_a == others_b, f"{action} changed the attempts of another phase"
        delta = a.attempt(b.phase) - b.attempt()
        allowed = {
            "take": {1},
            "give_back": {0, -1},
            "hand_over": {0, -1},
            "record": {0, -1} if b.status is CycleStatus.PAUSED else {0},
        }.get(action, {0})
        if action == "suggest_fix":
            assert a.attempt(b.phase) == 0, a.attempts
        else:
            assert delta in allowed, f"{action} moved attempts of {phase} by {delta}"

    def check_blocking(self, action: str, before: Snap, after: Snap, result: str) -> None:
        b, a = before.cycle, after.cycle
        assert b is not None
        assert a is not None
        key = (b.id, b.phase.value)
        if a.phase is not b.phase or action == "suggest_fix":
            self.failures[key] = self.refusals[key] = 0
        refused = (action == "record" and result == "refused") or (
            action == "reject" and before.parked
        )
        if refused and b.status is not CycleStatus.PAUSED:  # a paused refusal is given back
            self.failures[key] += 1
            self.refusals[key] += 1
        if a.status is CycleStatus.BLOCKED and b.status is not CycleStatus.BLOCKED:
            assert refused, f"{action} blocked the cycle"
            assert self.failures[key] >= MAX_ATTEMPTS, (
                f"blocked in {b.phase.value} after {self.failures[key]} failed attempts "
                f"({self.refusals[key]} refusals); attempts {a.attempts}"
            )
        sprint_ran = before.project.state is ScrumState.SPRINT_ACTIVE
        if refused and self.refusals[key] >= MAX_ATTEMPTS and sprint_ran:
            assert a.status is CycleStatus.BLOCKED, (action, a.status, self.refusals[key])

    def check_defined(self, now: Snap) -> None:
        cycle = now.cycle
        if cycle is None:
            return
        assert all(n >= 0 for n in cycle.attempts.values()), cycle.attempts
        if cycle.status is CycleStatus.DONE:
            assert cycle.phase is TddPhase.COMMIT
            assert now.story.status is StoryStatus.DONE
        assert (cycle.status is CycleStatus.PAUSED) == (cycle.paused_from is not None), (
            cycle.status,
            cycle.paused_from,
        )
        if cycle.waiting_for is not None:
            assert cycle.status in (CycleStatus.WAITING, CycleStatus.PAUSED), (
                cycle.status,
                cycle.waiting_for,
            )
        if cycle.status is CycleStatus.WAITING:
            assert cycle.waiting_for in ("sprint", "approval"), cycle.waiting_for
        parked = cycle.waiting_for == "approval" and cycle.pending_sha is not None
        assert bool(now.parked) == parked, (now.parked, cycle.status, cycle.waiting_for)
        if cycle.status is CycleStatus.BLOCKED:
            assert now.project.state is ScrumState.BLOCKED
            assert now.project.blocked_story_id == cycle.story_id


@pytest.mark.timeout(300)
def test_no_sequence_breaks_the_tdd_cycle(redis_url: str) -> None:
    with SyncStore(redis_url) as db:
        TddMachine.db = db
        run_state_machine_as_test(
            TddMachine,
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
