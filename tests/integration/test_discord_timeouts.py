"""Work that outlives `discord.command_timeout`, or a leader that leaves while work is running:
the user is told once, in words naming why; the work is not cancelled, commits once, and its
late result is never sent as a second answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from shared.domain.models import ScrumState
from shared.fakes.discord import FakeDiscord, InteractionRecord
from shared.fakes.discord.world import TranscriptEntry
from shared.state.store import Store
from shared.workflow.context import CommandOutcome, CommandRequest, Limits
from shared.workflow.executor import execute
from tests.factories import backlog_ids, make_project_in_state, timeline_events
from tests.integration.discord_fixtures import (
    DiscordStack,
    discord_path,
    discord_stack,
    response_of,
)

pytestmark = pytest.mark.integration

EPHEMERAL = 1 << 6


class GatedWork:
    """An executor whose commands wait until the test opens the gate, then run for real."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.done = asyncio.Event()

    async def __call__(
        self, store: Store, request: CommandRequest, limits: Limits
    ) -> CommandOutcome:
        await self.gate.wait()
        try:
            return await execute(store, request, limits)
        finally:
            self.done.set()


@pytest.fixture
def work() -> GatedWork:
    return GatedWork()


@pytest.fixture
async def stack(
    request: pytest.FixtureRequest,
    redis: Redis,
    redis_url: str,
    _empty_config_file: Path,
    work: GatedWork,
) -> AsyncIterator[DiscordStack]:
    """The duty with `discord.command_timeout` = the test's `command_timeout` parameter."""
    timeout = float(request.param)
    async with discord_stack(
        _empty_config_file, redis_url, executor=work, defer_after_s=0.1, command_timeout=timeout
    ) as running:
        yield running


async def add_story(stack: DiscordStack, pid: str) -> InteractionRecord:
    """`/backlog add_story`, deferred: its work waits at the gate."""
    path = discord_path("backlog add_story")
    record = await stack.fake.inject_slash(path, {"project": pid, "title": "Slow"})
    assert (await response_of(stack.fake, record))["type"] == 5
    return record


async def followup(fake: FakeDiscord) -> TranscriptEntry:
    def found() -> TranscriptEntry | None:
        return next((e for e in fake.transcript() if e.via == "followup"), None)

    return await fake.state.changes.wait_for(found, 5.0)


async def assert_committed_once_and_not_answered_again(
    stack: DiscordStack, work: GatedWork, pid: str, answer: TranscriptEntry
) -> None:
    stories = len(await backlog_ids(stack.store, pid))
    before = stack.fake.transcript()
    work.gate.set()
    await asyncio.wait_for(work.done.wait(), 5.0)
    await asyncio.sleep(0.2)  # anything the finished work would send, it sends now
    assert stack.fake.transcript() == before, "the late result was sent after the notice"
    assert [e.via for e in before].count("followup") == 1
    assert answer.message["flags"] & EPHEMERAL
    assert len(await backlog_ids(stack.store, pid)) == stories + 1
    events = await timeline_events(stack.store, pid)
    added = [e for e in events if e.payload.get("args", {}).get("title") == "Slow"]
    assert len(added) == 1


@pytest.mark.parametrize("stack", [0.5], indirect=True)
async def test_work_past_the_command_timeout_is_answered_once_naming_the_setting(
    stack: DiscordStack, work: GatedWork
) -> None:
    pid = await make_project_in_state(stack.store, ScrumState.IDLE)
    record = await add_story(stack, pid)
    notice = await followup(stack.fake)
    assert "taking longer than 0.5 s (discord.command_timeout)" in notice.content
    assert "goes on in the background" in notice.content
    deleted = [e for e in stack.fake.transcript() if e.action == "delete"]
    assert [e.message_id for e in deleted] == [record.original_message_id]  # no "thinking…" left
    await assert_committed_once_and_not_answered_again(stack, work, pid, notice)


@pytest.mark.parametrize("stack", [60], indirect=True)
async def test_a_leaving_leader_answers_running_work_at_once(
    stack: DiscordStack, work: GatedWork
) -> None:
    pid = await make_project_in_state(stack.store, ScrumState.IDLE)
    await add_story(stack, pid)
    await stack.duty.stop()  # returns with the work still at the gate
    notice = await followup(stack.fake)
    assert "handing over to another instance" in notice.content
    assert "check /state" in notice.content.lower()
    await assert_committed_once_and_not_answered_again(stack, work, pid, notice)
