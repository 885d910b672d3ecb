"""The whole Scrum loop through `execute` and the system events, and its refusals."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

import pytest

from shared.domain.models import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    Project,
    ProjectStatus,
    ScrumState,
    Sprint,
    SprintStatus,
    Story,
    StoryStatus,
)
from shared.domain.scrum import allowed_commands
from shared.platform.errors import (
    AlreadyExists,
    CapacityExceeded,
    Forbidden,
    InvalidTransition,
    NotFound,
)
from shared.state import capacity, keys
from shared.workflow.context import Limits
from shared.workflow.system import block_story, complete_story
from tests.factories import (
    APPROVER,
    MEMBER,
    VIEWER,
    backlog_ids,
    dump_project,
    get_project,
    make_project_in_state,
    proposed_ids,
    register_project,
    run,
    sprint_story_ids,
    timeline_events,
)

if TYPE_CHECKING:
    from shared.state.store import Store

pytestmark = pytest.mark.integration


async def story(store: Store, pid: str, story_id: str) -> Story:
    doc = await store.get(Story, keys.entity(pid, "story", story_id))
    assert doc is not None
    return doc


async def sprint(store: Store, pid: str, sprint_id: str) -> Sprint:
    doc = await store.get(Sprint, keys.entity(pid, "sprint", sprint_id))
    assert doc is not None
    return doc


async def view_ids(store: Store, pid: str, **args: Any) -> list[str]:
    out = await run(store, "backlog view", args, project_id=pid, actor=VIEWER)
    return [s["id"] for s in out.result["stories"]]


async def state_of(store: Store, pid: str) -> ScrumState:
    return (await get_project(store, pid)).state


async def test_full_walk(store: Store) -> None:
    reg = await run(store, "project register", {"repo_url": "git@example.com:acme/shop.git"})
    pid = reg.result["project_id"]
    assert (pid, reg.status_code, reg.project_version) == ("shop", 201, 1)
    project = await get_project(store, pid)
    assert (project.state, project.status) == (ScrumState.IDLE, ProjectStatus.STOPPED)
    await run(store, "project start", {"project": pid})
    assert await capacity.active_projects(store.redis) == [pid]

    # /epic with proposed stories: all wait for /approve.
    proposals = [{"title": t, "acceptance_criteria": ["works"]} for t in "ABCE"]
    epic = await run(
        store,
        "epic",
        {"description": "Checkout\nthe long part", "stories": proposals},
        project_id=pid,
    )
    assert (epic.from_state, epic.to_state, epic.status_code) == ("IDLE", "BACKLOG_READY", 201)
    assert epic.result["title"] == "Checkout"
    a, b, c, e = epic.result["proposed_story_ids"]
    assert await proposed_ids(store, pid) == [a, b, c, e]
    assert await backlog_ids(store, pid) == []
    state = await run(store, "state", project_id=pid, actor=VIEWER)
    assert state.result["pending_approvals_total"] == 4
    assert state.result["allowed_commands"] == list(allowed_commands(ScrumState.BACKLOG_READY))

    # /approve some ids (a story id and an approval id), then all the rest.
    b_approval = (await story(store, pid, b)).approval_id
    assert b_approval is not None
    out = await run(store, "approve", {"ids": [a, b_approval]}, project_id=pid, actor=APPROVER)
    assert out.result["approved_story_ids"] == [a, b]
    assert await proposed_ids(store, pid) == [c, e]
    assert await backlog_ids(store, pid) == [a, b]
    out = await run(store, "approve", {}, project_id=pid, actor=APPROVER)
    assert out.result["approved_story_ids"] == [c, e]
    assert await backlog_ids(store, pid) == [a, b, c, e]
    approval = await store.get(Approval, keys.entity(pid, "approval", b_approval))
    assert approval is not None
    assert (approval.status, approval.decided_by) == (ApprovalStatus.APPROVED, APPROVER.name)

    # add_story, prioritize top (first in the view), remove.
    add = await run(store, "backlog add_story", {"title": "D", "priority": 4}, project_id=pid)
    d = add.result["story_id"]
    assert await view_ids(store, pid) == [a, b, c, e, d]
    await run(store, "backlog prioritize", {"story_id": d, "priority": "top"}, project_id=pid)
    assert await view_ids(store, pid) == [d, a, b, c, e]
    assert (await story(store, pid, d)).priority == 1
    await run(store, "backlog remove", {"story_id": e}, project_id=pid)
    assert await view_ids(store, pid) == [d, a, b, c]
    assert (await story(store, pid, e)).status is StoryStatus.REMOVED

    # /sprint plan with ids.
    plan = await run(store, "sprint plan", {"story_ids": [a, b, c], "goal": "v1"}, project_id=pid)
    assert plan.to_state == "SPRINT_PLANNED"
    first_sprint = plan.result["sprint_id"]
    assert await backlog_ids(store, pid) == [d]
    for sid in (a, b, c):
        doc = await story(store, pid, sid)
        assert (doc.status, doc.sprint_id) == (StoryStatus.SPRINT, first_sprint)

    # /sprint start is refused while the project is stopped, with a clear message.
    await run(store, "project stop", {"project": pid})
    with pytest.raises(InvalidTransition) as refused:
        await run(store, "sprint start", project_id=pid)
    assert "stopped" in refused.value.message
    assert f"/project start {pid}" in refused.value.message
    assert await state_of(store, pid) is ScrumState.SPRINT_PLANNED
    await run(store, "project start", {"project": pid})
    start = await run(store, "sprint start", project_id=pid)
    assert start.to_state == "SPRINT_ACTIVE"
    assert (await sprint(store, pid, first_sprint)).status is SprintStatus.ACTIVE

    # pause / resume.
    assert (await run(store, "sprint pause", project_id=pid)).to_state == "SPRINT_PAUSED"
    assert (await sprint(store, pid, first_sprint)).status is SprintStatus.PAUSED
    assert (await run(store, "sprint resume", project_id=pid)).to_state == "SPRINT_ACTIVE"

    # blocked -> suggest_fix stores the hint.
    blocked = await block_story(store, pid, a, "three CI failures")
    assert (blocked.state, blocked.blocked_story_id) == (ScrumState.BLOCKED, a)
    status = await run(store, "sprint status", project_id=pid, actor=VIEWER)
    assert status.result["blocked_story_id"] == a
    block_approval = (await story(store, pid, a)).approval_id
    fix = await run(
        store, "suggest_fix", {"description": "Pin lxml"}, project_id=pid, actor=APPROVER
    )
    assert (fix.from_state, fix.to_state) == ("BLOCKED", "SPRINT_ACTIVE")
    fixed = await story(store, pid, a)
    assert (fixed.fix_hint, fixed.status) == ("Pin lxml", StoryStatus.IN_PROGRESS)
    decided = await store.get(Approval, keys.entity(pid, "approval", block_approval or ""))
    assert decided is not None
    assert decided.kind is ApprovalKind.BLOCKED_TASK
    assert decided.status is ApprovalStatus.APPROVED
    assert (await get_project(store, pid)).blocked_story_id is None

    # blocked again -> skip_task.
    await block_story(store, pid, b, "flaky")
    skip = await run(store, "skip_task", project_id=pid, actor=APPROVER)
    assert skip.to_state == "SPRINT_ACTIVE"
    assert (await story(store, pid, b)).status is StoryStatus.SKIPPED

    # complete the rest: the last one moves the sprint to review on its own.
    assert (await complete_story(store, pid, c)).state is ScrumState.SPRINT_ACTIVE
    assert (await complete_story(store, pid, a)).state is ScrumState.SPRINT_REVIEW
    with pytest.raises(InvalidTransition) as refused:
        await run(store, "backlog add_story", {"title": "late"}, project_id=pid)
    assert "/feedback or /request_changes" in refused.value.message

    # /request_changes: a top-priority change story, back to BACKLOG_READY.
    changes = await run(
        store,
        "request_changes",
        {"description": "Rename the button"},
        project_id=pid,
        actor=APPROVER,
    )
    assert (changes.from_state, changes.to_state) == ("SPRINT_REVIEW", "BACKLOG_READY")
    change = changes.result["change_story_id"]
    assert await view_ids(store, pid) == [change, d]
    change_doc = await story(store, pid, change)
    assert (change_doc.priority, change_doc.status) == (1, StoryStatus.BACKLOG)
    closed = await sprint(store, pid, first_sprint)
    assert closed.status is SprintStatus.COMPLETED
    assert closed.change_requests == ["Rename the button"]
    assert (await get_project(store, pid)).active_sprint_id is None

    # /sprint plan without ids takes the top of the backlog, up to capacity.
    f = (await run(store, "backlog add_story", {"title": "F"}, project_id=pid)).result["story_id"]
    plan = await run(store, "sprint plan", {"capacity": 2}, project_id=pid)
    assert plan.result["story_ids"] == [change, d]
    assert await backlog_ids(store, pid) == [f]
    await run(store, "sprint start", project_id=pid)
    await complete_story(store, pid, change)
    assert (await complete_story(store, pid, d)).state is ScrumState.SPRINT_REVIEW

    # /feedback closes the sprint: IDLE.
    done = await run(
        store, "feedback", {"description": "Went well"}, project_id=pid, actor=APPROVER
    )
    assert (done.from_state, done.to_state) == ("SPRINT_REVIEW", "IDLE")
    second = await sprint(store, pid, plan.result["sprint_id"])
    assert (second.status, second.retrospective.notes) == (SprintStatus.COMPLETED, ["Went well"])
    project = await get_project(store, pid)
    assert (project.state, project.active_sprint_id) == (ScrumState.IDLE, None)

    # The timeline tells the same story: one event per project version, states chained.
    events = await timeline_events(store, pid)
    assert [ev.version for ev in events] == list(range(1, project.version + 1))
    chained = [ev for ev in events if ev.from_state is not None]
    for before, after in itertools.pairwise(chained):
        assert before.to_state == after.from_state
    commands = [ev.command for ev in events]
    assert commands[:3] == ["project register", "project start", "epic"]
    assert commands[-1] == "feedback"
    assert {"task_blocked", "sprint_completed", "story_done"} <= set(commands)


async def test_unknown_story_id_is_not_found_naming_it(store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    ghost = "story-deadbeef"
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("backlog remove", {"story_id": ghost}),
        ("backlog prioritize", {"story_id": ghost, "priority": "low"}),
        ("backlog view", {"id": ghost}),
        ("sprint plan", {"story_ids": [ghost]}),
        ("approve", {"ids": [ghost]}),
    ]
    before = await dump_project(store.redis, pid)
    for command, args in attempts:
        with pytest.raises(NotFound) as missing:
            await run(store, command, args, project_id=pid, actor=APPROVER)
        assert ghost in missing.value.message, command
    assert await dump_project(store.redis, pid) == before


async def test_unknown_project_and_command(store: Store) -> None:
    with pytest.raises(NotFound) as missing:
        await run(store, "backlog add_story", {"title": "x"}, project_id="nope")
    assert "nope" in missing.value.message
    with pytest.raises(NotFound) as missing:
        await run(store, "state", project_id="nope")
    with pytest.raises(NotFound) as unknown:
        await run(store, "/sprint explode", project_id="nope")
    assert "sprint plan" in unknown.value.details["allowed"]


async def test_approving_when_nothing_is_pending(store: Store) -> None:
    pid = await register_project(store)
    await run(store, "epic", {"description": "No proposals"}, project_id=pid)
    before = await dump_project(store.redis, pid)
    with pytest.raises(InvalidTransition) as refused:
        await run(store, "approve", {}, project_id=pid, actor=APPROVER)
    assert "Nothing to" in refused.value.message
    assert refused.value.details["state"] == "BACKLOG_READY"
    assert refused.value.details["allowed_commands"] == ["epic", "backlog add_story"]
    assert await dump_project(store.redis, pid) == before


@pytest.mark.parametrize("command", ["approve", "reject"])
async def test_a_blocked_task_is_not_decided_by_approve(store: Store, command: str) -> None:
    """Its approval is pending, but /suggest_fix or /skip_task decide it: the refusal says so
    and offers only what BLOCKED allows (once it offered /epic and /sprint plan)."""
    pid = await make_project_in_state(store, ScrumState.BLOCKED)
    blocked = await get_project(store, pid)
    story = await store.get(Story, keys.entity(pid, "story", blocked.blocked_story_id or ""))
    assert story is not None
    assert story.approval_id is not None
    before = await dump_project(store.redis, pid)
    with pytest.raises(InvalidTransition) as refused:
        await run(store, command, {"ids": [story.approval_id]}, project_id=pid, actor=APPROVER)
    assert f"{story.approval_id} waits on a blocked story" in refused.value.message
    assert "/suggest_fix or /skip_task" in refused.value.message
    offered = refused.value.details["allowed_commands"]
    assert offered[:2] == ["suggest_fix", "skip_task"]
    assert set(offered) <= set(allowed_commands(ScrumState.BLOCKED))
    assert await dump_project(store.redis, pid) == before


async def test_max_concurrent_projects(store: Store) -> None:
    limits = Limits(max_concurrent_projects=2)
    one, two, three = [await register_project(store, f"proj-{n}", start=False) for n in (1, 2, 3)]
    for pid in (one, two):
        await run(store, "project start", {"project": pid}, limits=limits)
    before = await dump_project(store.redis, three)
    with pytest.raises(CapacityExceeded) as full:
        await run(store, "project start", {"project": three}, limits=limits)
    assert full.value.details["active_projects"] == [one, two]
    assert "2 of 2" in full.value.message
    assert await dump_project(store.redis, three) == before
    assert (await get_project(store, three)).status is ProjectStatus.STOPPED

    # Starting an active project again takes no second slot.
    await run(store, "project start", {"project": one}, limits=limits)
    await run(store, "project stop", {"project": one}, limits=limits)
    assert (await get_project(store, one)).status is ProjectStatus.STOPPED
    await run(store, "project start", {"project": three}, limits=limits)
    assert await capacity.active_projects(store.redis) == [two, three]
    resources = await run(store, "resource status", actor=VIEWER, limits=limits)
    assert resources.result["active_count"] == 2
    assert resources.result["max_concurrent_projects"] == 2


async def test_starting_an_unknown_project_takes_no_slot(store: Store) -> None:
    with pytest.raises(NotFound):
        await run(store, "project start", {"project": "ghost"})
    assert await capacity.active_projects(store.redis) == []


async def test_duplicate_register(store: Store) -> None:
    pid = await register_project(store, "dup")
    before = await dump_project(store.redis, pid)
    with pytest.raises(AlreadyExists) as taken:
        await run(store, "project register", {"repo_url": "/elsewhere/dup", "id": "dup"})
    assert taken.value.details == {"project_id": "dup"}
    assert await dump_project(store.redis, pid) == before
    listing = await run(store, "project list", actor=VIEWER)
    assert [p["id"] for p in listing.result["projects"]] == ["dup"]


@pytest.mark.parametrize(
    ("command", "args", "actor", "role"),
    [
        ("backlog add_story", {"title": "x"}, VIEWER, "member"),
        ("approve", {}, MEMBER, "approver"),
        ("project stop", {"project": "any"}, APPROVER, "admin"),
    ],
)
async def test_role_checks(
    store: Store, command: str, args: dict[str, Any], actor: Any, role: str
) -> None:
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    before = await dump_project(store.redis, pid)
    with pytest.raises(Forbidden) as forbidden:
        await run(store, command, args, project_id=pid, actor=actor)
    assert f"needs the {role} role" in forbidden.value.message
    assert forbidden.value.details == {"required_role": role}
    assert await dump_project(store.redis, pid) == before


async def test_viewer_may_read(store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.SPRINT_ACTIVE)
    for command in ("state", "backlog view", "sprint status"):
        out = await run(store, command, project_id=pid, actor=VIEWER)
        assert out.to_state == "SPRINT_ACTIVE"
    assert (await run(store, "global status", actor=VIEWER)).result["total"] == 1


@pytest.mark.slow
async def test_backlog_pagination_over_120_stories(store: Store) -> None:
    pid = await register_project(store)
    for n in range(120):
        await run(
            store, "backlog add_story", {"title": f"S{n}", "priority": n % 5 + 1}, project_id=pid
        )
    expected = await backlog_ids(store, pid)
    assert len(expected) == 120
    seen: list[str] = []
    priorities: list[int] = []
    cursor: str | None = None
    pages = 0
    while True:
        args: dict[str, Any] = {"limit": 25} | ({"cursor": cursor} if cursor else {})
        out = await run(store, "backlog view", args, project_id=pid, actor=VIEWER)
        assert out.result["total"] == 120
        seen += [s["id"] for s in out.result["stories"]]
        priorities += [s["priority"] for s in out.result["stories"]]
        pages += 1
        cursor = out.result["next_cursor"]
        if cursor is None:
            break
    assert pages == 5
    assert seen == expected
    assert len(set(seen)) == 120
    assert priorities == sorted(priorities)
    # Stable within a priority: arrival order.
    titles = {s.id: s.title for s in [await story(store, pid, i) for i in seen[:24]]}
    assert [titles[i] for i in seen[:24]] == [f"S{n}" for n in range(0, 120, 5)]


async def test_project_doc_is_valid_after_every_state(store: Store) -> None:
    for state in ScrumState:
        pid = await make_project_in_state(store, state)
        raw = await store.redis.get(keys.project(pid))
        assert raw is not None
        assert Project.model_validate_json(raw).state is state


# --- system events -------------------------------------------------------------------


async def test_completing_stories_one_by_one(store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.SPRINT_ACTIVE)
    first, second = await sprint_story_ids(store, pid)
    version = (await get_project(store, pid)).version
    assert (await complete_story(store, pid, first)).state is ScrumState.SPRINT_ACTIVE
    done = await complete_story(store, pid, second)
    assert (done.state, done.version) == (ScrumState.SPRINT_REVIEW, version + 2)
    last = (await timeline_events(store, pid))[-1]
    assert (last.actor, last.command) == ("system", "sprint_completed")
    assert (last.from_state, last.to_state) == ("SPRINT_ACTIVE", "SPRINT_REVIEW")


async def test_skipping_the_last_blocked_story_ends_the_sprint(store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.BLOCKED)
    first, second = await sprint_story_ids(store, pid)
    await complete_story(store, pid, second)
    assert await state_of(store, pid) is ScrumState.BLOCKED
    out = await run(store, "skip_task", project_id=pid, actor=APPROVER)
    assert (out.from_state, out.to_state) == ("BLOCKED", "SPRINT_REVIEW")
    assert (await story(store, pid, first)).status is StoryStatus.SKIPPED


async def test_blocking_outside_an_active_sprint_is_refused(store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.SPRINT_PAUSED)
    first, _ = await sprint_story_ids(store, pid)
    before = await dump_project(store.redis, pid)
    with pytest.raises(InvalidTransition) as refused:
        await block_story(store, pid, first, "boom")
    assert refused.value.details["state"] == "SPRINT_PAUSED"
    assert await dump_project(store.redis, pid) == before


async def test_last_story_done_while_paused_is_kept(store: Store) -> None:
    """A job that finishes while the sprint is paused must not lose its result, and the
    sprint must still reach review: no command leads to SPRINT_REVIEW by itself."""
    pid = await make_project_in_state(store, ScrumState.SPRINT_PAUSED)
    first, second = await sprint_story_ids(store, pid)
    await complete_story(store, pid, first)
    await complete_story(store, pid, second)
    assert (await story(store, pid, second)).status is StoryStatus.DONE
    assert await state_of(store, pid) is ScrumState.SPRINT_PAUSED
    out = await run(store, "sprint resume", project_id=pid)
    assert out.to_state == "SPRINT_REVIEW"


async def test_completing_a_story_outside_the_sprint_is_refused(store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.SPRINT_ACTIVE)
    outsider = (await backlog_ids(store, pid))[0]
    before = await dump_project(store.redis, pid)
    with pytest.raises(InvalidTransition):
        await complete_story(store, pid, outsider)
    assert await dump_project(store.redis, pid) == before


async def test_blocking_a_story_outside_the_sprint_is_refused(store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.SPRINT_ACTIVE)
    outsider = (await backlog_ids(store, pid))[0]
    before = await dump_project(store.redis, pid)
    with pytest.raises(InvalidTransition):
        await block_story(store, pid, outsider, "not even started")
    assert await dump_project(store.redis, pid) == before
