"""Optimistic locking under real contention: no lost update, no double booking, no double apply."""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from shared.domain.models import ProjectStatus, ScrumState, Sprint, Story, StoryStatus
from shared.platform.errors import (
    CapacityExceeded,
    IdempotencyMismatch,
    InvalidTransition,
    PreconditionFailed,
    VersionConflict,
)
from shared.state import capacity, keys
from shared.workflow.context import CommandOutcome, Limits
from shared.workflow.repo import PRIORITY_BY_NAME
from tests.factories import (
    MEMBER,
    backlog_ids,
    dump_project,
    get_project,
    make_project_in_state,
    register_project,
    run,
    timeline_events,
    timeline_length,
)

if TYPE_CHECKING:
    from shared.state.store import Store, Transaction

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
_CLIENT_RETRIES = 50


async def stories_in_index(store: Store, pid: str) -> list[str]:
    """The index of every story of the project, whatever its status."""
    return list(await store.redis.zrange(keys.index(pid, "stories"), 0, -1))


async def story_doc_count(store: Store, pid: str) -> int:
    return len(
        [k async for k in store.redis.scan_iter(match=f"{keys.project_prefix(pid)}:story:*")]
    )


async def run_retrying(
    store: Store, command: str, args: dict[str, Any], pid: str
) -> tuple[CommandOutcome, int]:
    """`run`, retried on 409 VersionConflict as an API client would; (outcome, 409s)."""
    for attempt in range(_CLIENT_RETRIES):
        try:
            return await run(store, command, args, project_id=pid, actor=MEMBER), attempt
        except VersionConflict:
            continue
    pytest.fail(f"/{command} refused {_CLIENT_RETRIES} times in a row")


async def add_stories(store: Store, pid: str, task: int, count: int) -> tuple[list[str], int]:
    """`count` add_story calls, each retried on 409; (story ids, 409s)."""
    ids: list[str] = []
    conflicts = 0
    for n in range(count):
        out, refused = await run_retrying(
            store, "backlog add_story", {"title": f"t{task}-{n}"}, pid
        )
        ids.append(out.result["story_id"])
        conflicts += refused
    return ids, conflicts


@pytest.mark.slow
async def test_many_tasks_adding_stories_lose_nothing(store: Store) -> None:
    pid = await register_project(store)
    before = await get_project(store, pid)
    events_before = await timeline_length(store, pid)

    results = await asyncio.gather(*(add_stories(store, pid, t, 10) for t in range(50)))
    created = {i for ids, _ in results for i in ids}
    assert len(created) == 500
    # Every acknowledged write is there, and a refused (409) attempt left nothing behind.
    assert set(await backlog_ids(store, pid)) == created
    assert set(await stories_in_index(store, pid)) == created
    assert await story_doc_count(store, pid) == 500
    after = await get_project(store, pid)
    assert after.version == before.version + 500
    events = await timeline_events(store, pid)
    assert len(events) == events_before + 500
    new = events[events_before:]
    assert [e.version for e in new] == list(range(before.version + 1, after.version + 1))
    assert {e.payload["result"]["story_id"] for e in new} == created


@pytest.mark.slow
async def test_fifty_writers_fit_in_the_default_retry_budget(store: Store) -> None:
    pid = await register_project(store)
    results = await asyncio.gather(*(add_stories(store, pid, t, 10) for t in range(50)))
    assert sum(conflicts for _, conflicts in results) == 0


async def test_concurrent_prioritize_of_one_story(store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    target = (await backlog_ids(store, pid))[-1]
    before = await get_project(store, pid)
    story_before = await store.get(Story, keys.entity(pid, "story", target))
    assert story_before is not None
    rng = random.Random(7)
    choices = [rng.choice(list(PRIORITY_BY_NAME)) for _ in range(50)]

    await asyncio.gather(
        *(
            run_retrying(store, "backlog prioritize", {"story_id": target, "priority": c}, pid)
            for c in choices
        )
    )
    after = await get_project(store, pid)
    assert after.version == before.version + 50
    story = await store.get(Story, keys.entity(pid, "story", target))
    assert story is not None
    assert story.version == story_before.version + 50
    # The last committed event is the one whose priority stuck.
    last = (await timeline_events(store, pid))[-1]
    assert last.command == "backlog prioritize"
    assert story.priority == PRIORITY_BY_NAME[last.payload["args"]["priority"]]
    backlog = await backlog_ids(store, pid)
    assert backlog.count(target) == 1
    if last.payload["args"]["priority"] == "top":
        assert backlog[0] == target


@pytest.mark.parametrize("with_ids", [False, True], ids=["top-of-backlog", "same-ids"])
async def test_two_concurrent_sprint_plans(store: Store, with_ids: bool) -> None:
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    backlog = await backlog_ids(store, pid)
    args: dict[str, Any] = {"story_ids": backlog[:3]} if with_ids else {"capacity": 3}

    results = await asyncio.gather(
        run(store, "sprint plan", args, project_id=pid),
        run(store, "sprint plan", args, project_id=pid),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, CommandOutcome)]
    lost = [r for r in results if isinstance(r, InvalidTransition)]
    assert (len(won), len(lost)) == (1, 1), results
    assert lost[0].details["state"] == "SPRINT_PLANNED"
    project = await get_project(store, pid)
    assert project.state is ScrumState.SPRINT_PLANNED
    sprint_id = won[0].result["sprint_id"]
    assert project.active_sprint_id == sprint_id
    assert await store.redis.zrange(keys.index(pid, "sprints"), 0, -1) == [sprint_id]
    sprint = await store.get(Sprint, keys.entity(pid, "sprint", sprint_id))
    assert sprint is not None
    assert sprint.story_ids == backlog[:3]
    for story_id in backlog[:3]:
        story = await store.get(Story, keys.entity(pid, "story", story_id))
        assert story is not None
        assert (story.status, story.sprint_id) == (StoryStatus.SPRINT, sprint.id)
    assert await backlog_ids(store, pid) == backlog[3:]


async def test_many_concurrent_plans_book_each_story_once(store: Store) -> None:
    """Ten planners with overlapping picks: one sprint, no story in two sprints."""
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    backlog = await backlog_ids(store, pid)
    picks = [{"story_ids": [backlog[n % 4], backlog[(n + 1) % 4]]} for n in range(10)]
    results = await asyncio.gather(
        *(run(store, "sprint plan", p, project_id=pid) for p in picks), return_exceptions=True
    )
    won = [r for r in results if isinstance(r, CommandOutcome)]
    assert len(won) == 1
    assert all(isinstance(r, InvalidTransition) for r in results if r not in won)
    sprints = await store.redis.zrange(keys.index(pid, "sprints"), 0, -1)
    assert len(sprints) == 1
    booked = [
        s.sprint_id
        for s in await store.get_many(Story, [keys.entity(pid, "story", i) for i in backlog])
        if s is not None and s.sprint_id
    ]
    assert booked == [sprints[0]] * 2


async def test_stale_if_match_is_refused_and_changes_nothing(store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    version = (await get_project(store, pid)).version
    dump = await dump_project(store.redis, pid)
    for stale in (version - 1, version + 1, 0):
        with pytest.raises(PreconditionFailed) as refused:
            await run(store, "backlog add_story", {"title": "x"}, project_id=pid, if_match=stale)
        assert refused.value.status_code == 412
        assert refused.value.details == {"current_version": version}
        assert await dump_project(store.redis, pid) == dump
    out = await run(store, "backlog add_story", {"title": "x"}, project_id=pid, if_match=version)
    assert out.project_version == version + 1


async def test_concurrent_writers_with_the_same_if_match(store: Store) -> None:
    """Ten clients that all read version v: exactly one write lands, nine get 412."""
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    version = (await get_project(store, pid)).version
    results = await asyncio.gather(
        *(
            run(store, "backlog add_story", {"title": f"c{n}"}, project_id=pid, if_match=version)
            for n in range(10)
        ),
        return_exceptions=True,
    )
    assert sum(isinstance(r, CommandOutcome) for r in results) == 1
    assert sum(isinstance(r, PreconditionFailed) for r in results) == 9
    assert (await get_project(store, pid)).version == version + 1


async def test_idempotent_replay_sequential(store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    version = (await get_project(store, pid)).version
    events = await timeline_length(store, pid)
    args = {"title": "Once only"}
    outcomes = [
        await run(store, "backlog add_story", args, project_id=pid, idempotency_key="k-1")
        for _ in range(3)
    ]
    assert [o.replayed for o in outcomes] == [False, True, True]
    assert all(o.body() == outcomes[0].body() for o in outcomes)
    assert all(o.status_code == 201 for o in outcomes)
    assert (await get_project(store, pid)).version == version + 1
    assert await timeline_length(store, pid) == events + 1
    # A replay after the state moved on still answers the original response.
    await run(store, "sprint plan", {}, project_id=pid)
    again = await run(store, "backlog add_story", args, project_id=pid, idempotency_key="k-1")
    assert (again.replayed, again.body()) == (True, outcomes[0].body())


async def test_idempotent_replay_concurrent(store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    version = (await get_project(store, pid)).version
    stories = len(await stories_in_index(store, pid))
    outcomes = await asyncio.gather(
        *(
            run(store, "backlog add_story", {"title": "t"}, project_id=pid, idempotency_key="k-2")
            for _ in range(20)
        )
    )
    assert sorted(o.replayed for o in outcomes) == [False] + [True] * 19
    assert all(o.body() == outcomes[0].body() for o in outcomes)
    assert len(await stories_in_index(store, pid)) == stories + 1
    assert (await get_project(store, pid)).version == version + 1


async def test_idempotency_key_reused_for_other_args(store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    await run(store, "backlog add_story", {"title": "a"}, project_id=pid, idempotency_key="k-3")
    dump = await dump_project(store.redis, pid)
    with pytest.raises(IdempotencyMismatch) as reused:
        await run(store, "backlog add_story", {"title": "b"}, project_id=pid, idempotency_key="k-3")
    assert reused.value.status_code == 422
    with pytest.raises(IdempotencyMismatch):
        await run(store, "epic", {"description": "b"}, project_id=pid, idempotency_key="k-3")
    assert await dump_project(store.redis, pid) == dump


async def test_idempotent_replay_of_project_register(store: Store) -> None:
    args = {"repo_url": "/srv/git/replayed.git"}
    first = await run(store, "project register", args, idempotency_key="reg-1")
    again = await run(store, "project register", args, idempotency_key="reg-1")
    assert again.replayed
    assert again.result == first.result
    assert (await get_project(store, "replayed")).version == 1


async def test_replayed_global_command_answers_the_original_body(store: Store) -> None:
    args = {"repo_url": "/srv/git/replayed.git"}
    first = await run(store, "project register", args, idempotency_key="reg-2")
    again = await run(store, "project register", args, idempotency_key="reg-2")
    assert again.body() == first.body()


@pytest.mark.slow
async def test_separate_processes_lose_nothing(store: Store, redis_url: str) -> None:
    pid = await register_project(store)
    version = (await get_project(store, pid)).version
    barrier = f"awf-test:barrier:{pid}"
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.add_stories_worker",
            redis_url,
            pid,
            "25",
            barrier,
            "4",
            cwd=REPO_ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(4)
    ]
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 45)
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()
        assert out.decode().strip() == "25"
    assert len(await backlog_ids(store, pid)) == 100
    assert await story_doc_count(store, pid) == 100
    assert (await get_project(store, pid)).version == version + 100
    actors = {e.actor for e in await timeline_events(store, pid) if e.command.startswith("back")}
    assert actors == {f"worker-{pid}"}


async def test_two_starts_for_the_last_slot(store: Store) -> None:
    limits = Limits(max_concurrent_projects=2)
    first = await register_project(store, "first", start=False)
    await run(store, "project start", {"project": first}, limits=limits)
    a = await register_project(store, "cand-a", start=False)
    b = await register_project(store, "cand-b", start=False)

    results = await asyncio.gather(
        run(store, "project start", {"project": a}, limits=limits),
        run(store, "project start", {"project": b}, limits=limits),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, CommandOutcome)]
    lost = [r for r in results if isinstance(r, CapacityExceeded)]
    assert (len(won), len(lost)) == (1, 1), results
    winner = won[0].project_id
    assert winner is not None
    assert await capacity.active_projects(store.redis) == sorted([first, winner])
    loser = b if winner == a else a
    assert (await get_project(store, winner)).status is ProjectStatus.ACTIVE
    assert (await get_project(store, loser)).status is ProjectStatus.STOPPED


@pytest.mark.parametrize("round_", range(10))
async def test_many_starts_never_exceed_the_limit(store: Store, round_: int) -> None:
    limits = Limits(max_concurrent_projects=3)
    pids = [await register_project(store, f"r{round_}-{n}", start=False) for n in range(8)]
    results = await asyncio.gather(
        *(run(store, "project start", {"project": p}, limits=limits) for p in pids),
        return_exceptions=True,
    )
    assert sum(isinstance(r, CommandOutcome) for r in results) == 3
    assert sum(isinstance(r, CapacityExceeded) for r in results) == 5
    active = await capacity.active_projects(store.redis)
    statuses = {p: (await get_project(store, p)).status for p in pids}
    assert sorted(p for p, s in statuses.items() if s is ProjectStatus.ACTIVE) == active


async def test_concurrent_start_and_stop_keep_the_active_set_consistent(store: Store) -> None:
    """Whatever the interleaving, a project is ACTIVE exactly when it holds a slot."""
    pid = await register_project(store, "flip", start=False)
    broken = []
    for _ in range(30):
        await asyncio.gather(
            run(store, "project start", {"project": pid}),
            run(store, "project stop", {"project": pid}),
        )
        status = (await get_project(store, pid)).status
        holds_slot = pid in await capacity.active_projects(store.redis)
        if (status is ProjectStatus.ACTIVE) != holds_slot:
            broken.append((status, holds_slot))
    assert broken == []


async def test_a_transaction_reads_what_it_already_wrote(store: Store) -> None:
    """Two steps of one command on the same document build on each other: the second reads
    the first's buffered write (version included), and the commit keeps both changes."""
    key = keys.entity("p", "story", "story-1")
    await store.atomic(lambda tx: _put(tx, key, Story(id="story-1", project_id="p", title="A")))

    async def two_steps(tx: Transaction) -> tuple[int, int]:
        first = await tx.get(Story, key)
        assert first is not None
        tx.put(key, first.touched(priority=1))
        second, both = await tx.get(Story, key), await tx.get_many(Story, [key, key + "x"])
        assert second is not None
        assert both == [second, None]
        saved = tx.put(key, second.touched(points=5))
        return first.version, saved.version

    before, after = await store.atomic(two_steps)
    stored = await store.get(Story, key)
    assert stored is not None
    assert (stored.priority, stored.points, stored.version) == (1, 5, after)
    assert after == before + 2


async def _put(tx: Transaction, key: str, story: Story) -> None:
    tx.put(key, story)
