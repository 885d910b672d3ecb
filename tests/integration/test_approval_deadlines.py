"""Approval deadlines on real Valkey: two watchers (two pods, or an old and a new leader) race
every sweep, yet each reminder and each expiry fires once, and the expiry action runs once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

import pytest

from services.gateway.deadlines import DEADLINE_ACTOR, DeadlineWatcher
from shared.domain.deadlines import DeadlinePolicy
from shared.domain.models import Approval, ApprovalKind, ScrumState, Story, StoryStatus
from shared.fakes.discord import FakeDiscord
from shared.jobs.specs import JobSpec
from shared.state import keys
from shared.state.store import Store
from tests.factories import get_project, make_project_in_state, run, timeline_events
from tests.integration.notify_fixtures import drain, notifier_on

pytestmark = pytest.mark.integration

POLICY = DeadlinePolicy(default_s=100.0, reminders=(0.5, 0.9))


class Jobs:
    def __init__(self) -> None:
        self.enqueued: list[JobSpec] = []

    async def __call__(self, jobs: Sequence[JobSpec]) -> None:
        self.enqueued.extend(jobs)


def watchers(store: Store, jobs: Jobs) -> list[DeadlineWatcher]:
    return [
        DeadlineWatcher(store, POLICY, jobs, owner=owner, sweep_s=1.0)
        for owner in ("pod-a", "pod-b")
    ]


async def race(pods: list[DeadlineWatcher], now: datetime) -> int:
    return sum(await asyncio.gather(*(pod.sweep(now) for pod in pods)))


async def pending(store: Store, pid: str, kind: ApprovalKind) -> Approval:
    ids = await store.redis.zrange(keys.index(pid, "approvals:pending"), 0, -1)
    found = [await store.get(Approval, keys.entity(pid, "approval", i)) for i in ids]
    return next(a for a in found if a is not None and a.kind is kind)


async def deadline_events(store: Store, pid: str) -> list[str]:
    events = await timeline_events(store, pid)
    return [
        f"{e.command} {e.payload.get('mark')}" for e in events if e.actor == DEADLINE_ACTOR.name
    ]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as discord:
        yield discord


async def test_reminders_fire_once_each_then_the_proposal_is_rejected(
    store: Store, fake: FakeDiscord
) -> None:
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    await run(store, "project bind_channel", {"project": pid, "channel_id": fake.channel_id})
    proposal = await pending(store, pid, ApprovalKind.STORY_PROPOSAL)
    asked, jobs = proposal.created_at, Jobs()
    pods = watchers(store, jobs)

    fired = [await race(pods, asked + timedelta(seconds=s)) for s in (10, 51, 60)]
    async with notifier_on(store, fake, "pod-a") as notifier:
        await drain(notifier, store, pid)
        [reminder] = [m for m in fake.messages() if m["content"].startswith("⏰")]
        fired += [await race(pods, asked + timedelta(seconds=s)) for s in (91, 95, 101, 200)]
        await drain(notifier, store, pid)

    assert fired == [0, 1, 0, 1, 0, 1, 0]
    assert await deadline_events(store, pid) == [
        "approval reminder remind-50",
        "approval reminder remind-90",
        "reject None",
        "approval expired expire",
    ]
    story = await store.get(Story, keys.entity(pid, "story", proposal.subject_id))
    assert story is not None
    assert story.status is StoryStatus.REMOVED
    buttons = [c["label"] for row in reminder["components"] for c in row["components"]]
    assert buttons == ["Approve", "Reject"]
    posts = [m["content"] for m in fake.messages() if m["content"].startswith(("⏰", "⌛"))]
    assert [p[:2] for p in posts] == ["⏰ ", "⏰ ", "⌛ "]
    assert "Action: reject (applied)" in posts[2]


async def test_expiry_skips_a_blocked_task_once_with_two_watchers_racing(store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.BLOCKED)
    blocked = await pending(store, pid, ApprovalKind.BLOCKED_TASK)
    jobs = Jobs()
    pods = watchers(store, jobs)
    late = blocked.created_at + timedelta(seconds=500)

    fired = [await race(pods, late) for _ in range(3)]

    assert fired == [2, 0, 0]  # the blocked task and the still-pending proposal expired
    project = await get_project(store, pid)
    assert project.state is ScrumState.SPRINT_ACTIVE
    events = await timeline_events(store, pid)
    skips = [e for e in events if e.command == "skip_task"]
    assert [e.actor for e in skips] == [DEADLINE_ACTOR.name]
    expired = {e.payload["kind"]: e.payload for e in events if e.command == "approval expired"}
    assert expired["blocked_task"]["outcome"] == "applied"
    assert expired["story_proposal"]["action"] == "reject"
    assert len(jobs.enqueued) == 1


async def test_a_human_decision_before_the_deadline_leaves_nothing_to_expire(
    store: Store,
) -> None:
    pid = await make_project_in_state(store, ScrumState.BLOCKED)
    blocked = await pending(store, pid, ApprovalKind.BLOCKED_TASK)
    await run(store, "suggest_fix", {"description": "mock the clock"}, project_id=pid)
    pods = watchers(store, Jobs())
    assert await race(pods, blocked.created_at + timedelta(seconds=500)) == 1  # the proposal
    assert "skip_task" not in [e.command for e in await timeline_events(store, pid)]
