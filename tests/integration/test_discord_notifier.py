"""The notifier against the fake Discord on real Valkey: a sprint's timeline lands in the
project's channel and in one thread per story, in order; a new leader resumes from the stored
cursor; a 429 storm is waited out inside the cluster bucket and nothing is lost."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from services.gateway.discord.components import Decision
from shared.domain.models import ScrumState
from shared.fakes.discord import GLOBAL, FakeDiscord, routes
from shared.state import keys
from shared.state.rate_bucket import BucketPolicy
from shared.state.store import Store
from shared.state.tail_cursor import TailCursor
from shared.workflow.system import block_story
from tests.factories import make_project_in_state, run
from tests.integration.notify_fixtures import (
    bound_sprint,
    drain,
    notifier_on,
    phase_events,
    thread_contents,
)

pytestmark = pytest.mark.integration


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as discord:
        yield discord


def _expected_story_thread(tag: str) -> list[str]:
    return [
        "▶️ **test_red** (attempt 1) started",
        f"❌ **test_red** (attempt 1) refused: {tag} failed for an import error · 3 tool calls"
        "\n[full log](<http://api.test/api/v1/projects/{pid}/timeline>)",
        "▶️ **test_red** (attempt 2) started",
        f"✅ **test_red** (attempt 2) passed: {tag} gate 2 · tests: 0 passed, 2 failed · "
        "commit `abc1234def` · 3 tool calls\n[full log](<http://api.test/api/v1/projects/{pid}/timeline>)",
    ]


async def test_sprint_events_land_in_story_threads_in_order(
    store: Store, fake: FakeDiscord
) -> None:
    pid, (first, second) = await bound_sprint(store, fake)
    await phase_events(store, pid, first, "one")
    await phase_events(store, pid, second, "two")
    await block_story(store, pid, second, "three refusals in a row")
    async with notifier_on(store, fake, "pod-a") as notifier:
        await drain(notifier, store, pid)

    threads = {name.rsplit(" · ", 1)[1]: posts for name, posts in thread_contents(fake).items()}
    assert set(threads) == {first, second}
    assert threads[first] == [t.replace("{pid}", pid) for t in _expected_story_thread("one")]
    assert threads[second][:4] == [t.replace("{pid}", pid) for t in _expected_story_thread("two")]
    assert threads[second][4].startswith("🚧 **Blocked**: three refusals in a row")
    channel = [m["content"] for m in fake.messages()]
    assert channel[0].startswith("🏃 Sprint sprint-")
    assert channel[0].endswith("started with 2 stories.")
    assert channel[1] == f"🚧 The sprint is blocked on {second}: decide in the story's thread."
    assert not any("read_file" in m for posts in threads.values() for m in posts)


async def test_a_block_carries_the_suggest_fix_and_skip_buttons(
    store: Store, fake: FakeDiscord
) -> None:
    pid, (first, _) = await bound_sprint(store, fake)
    await block_story(store, pid, first, "stuck")
    async with notifier_on(store, fake, "pod-a") as notifier:
        await drain(notifier, store, pid)
    [thread] = fake.threads()
    [blocked] = fake.messages(thread["id"])
    buttons = [c["custom_id"] for row in blocked["components"] for c in row["components"]]
    decisions = [Decision.parse(b) for b in buttons]
    assert [d.action for d in decisions if d] == ["fix", "skip"]
    assert all(d and d.project_id == pid for d in decisions)


async def test_a_new_leader_resumes_from_the_stored_cursor(store: Store, fake: FakeDiscord) -> None:
    pid, (first, second) = await bound_sprint(store, fake)
    await phase_events(store, pid, first, "one")
    async with notifier_on(store, fake, "pod-a") as old_leader:
        await drain(old_leader, store, pid)
    posted_before = len(fake.stats.calls(routes.CREATE_MESSAGE))

    await phase_events(store, pid, second, "two")
    async with notifier_on(store, fake, "pod-b") as new_leader:
        await drain(new_leader, store, pid)

    threads = thread_contents(fake)
    assert sum(len(posts) for posts in threads.values()) + len(fake.messages()) == len(
        fake.stats.calls(routes.CREATE_MESSAGE)
    )
    assert len(fake.stats.calls(routes.CREATE_MESSAGE)) == posted_before + 4
    assert all(len(posts) == 4 for posts in threads.values())  # nothing posted twice


async def test_a_429_storm_stays_within_the_bucket_and_loses_nothing(
    store: Store, fake: FakeDiscord
) -> None:
    pid, stories = await bound_sprint(store, fake)
    for n, story_id in enumerate(stories * 3):
        await phase_events(store, pid, story_id, f"round-{n}", tools=1)
    fake.rate_limit(GLOBAL, count=2, retry_after=0.4)
    fake.rate_limit(routes.CREATE_MESSAGE, count=6, retry_after=0.3)
    fake.rate_limit(routes.START_THREAD, count=1, retry_after=0.2, scope="user")
    policy = BucketPolicy(rate_per_s=15, burst=3)
    async with notifier_on(store, fake, "pod-a", policy) as notifier:
        await drain(notifier, store, pid)

    assert fake.stats.rate_limited >= 9
    assert fake.stats.early_retries == 0  # every Retry-After was honoured
    assert fake.stats.max_rest_rate <= policy.rate_per_s + policy.burst
    for name, posts in thread_contents(fake).items():
        tags = [p.split(": ", 1)[1].split(" ", 1)[0] for p in posts if "passed:" in p]
        rounds = [n for n in range(6) if stories[n % 2] in name]
        assert tags == [f"round-{n}" for n in rounds], name
        assert len(posts) == 12


async def test_a_channel_discord_refuses_is_reported_to_the_error_channel(
    store: Store, fake: FakeDiscord
) -> None:
    pid = await make_project_in_state(store, ScrumState.SPRINT_PLANNED)
    await run(store, "project bind_channel", {"project": pid, "channel_id": "999"})
    await run(store, "sprint start", project_id=pid)
    async with notifier_on(store, fake, "pod-a", error_channel_id=fake.channel_id) as notifier:
        await drain(notifier, store, pid)  # the cursor moves on: the event is not retried
    [report] = fake.messages()
    assert report["content"].startswith("Could not post 'sprint start' (")
    assert (
        f"of project {pid}: Discord POST /channels/{{id}}/messages answered 404"
        in report["content"]
    )


async def test_a_leader_that_died_mid_event_is_resumed_at_the_next_message(
    store: Store, fake: FakeDiscord
) -> None:
    pid, (first, _) = await bound_sprint(store, fake)
    async with notifier_on(store, fake, "pod-a") as old_leader:
        await drain(old_leader, store, pid)
    await block_story(store, pid, first, "stuck")
    [(blocked_id, _)] = await store.redis.xrevrange(keys.timeline(pid), count=1)
    await TailCursor(store.redis, pid).part_done(blocked_id, 1)  # its thread message went out

    async with notifier_on(store, fake, "pod-b") as new_leader:
        await drain(new_leader, store, pid)

    assert fake.threads() == []  # the thread part is not posted again
    assert [m["content"][:1] for m in fake.messages()] == ["🏃", "🚧"]
