"""The Discord duty itself: command sync only when the table changed, and answers that take
longer than the ACK window (deferred, then the original edited; a channel message once the
interaction token has expired)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.asyncio import Redis

from services.gateway.discord.duty import DiscordDuty, application_id
from services.gateway.discord.wiring import default_catalog
from shared.domain.models import ScrumState
from shared.fakes.discord import FakeDiscord, routes
from shared.fakes.discord.world import TranscriptEntry
from shared.state import keys
from shared.state.store import Store
from shared.workflow.context import CommandOutcome, CommandRequest, Limits
from shared.workflow.executor import execute
from tests.factories import make_project_in_state
from tests.integration.discord_fixtures import (
    discord_path,
    discord_settings,
    discord_stack,
    long_term,
    response_of,
)

pytestmark = pytest.mark.integration

SLOW_S = 0.6


@pytest.fixture
def config_file(_empty_config_file: Path) -> Path:
    return _empty_config_file


async def slow_execute(store: Store, request: CommandRequest, limits: Limits) -> CommandOutcome:
    await asyncio.sleep(SLOW_S)
    return await execute(store, request, limits)


async def start_and_stop(duty: DiscordDuty) -> None:
    await duty.start(long_term())
    await duty.stop()


async def test_commands_are_synced_only_when_they_changed(
    redis: Redis, redis_url: str, config_file: Path
) -> None:
    async with FakeDiscord() as fake:
        duty = DiscordDuty(discord_settings(config_file, redis_url, fake), redis)
        overwrites = fake.stats.calls
        await start_and_stop(duty)
        assert len(overwrites(routes.OVERWRITE_GLOBAL_COMMANDS)) == 1
        assert [c["name"] for c in fake.commands()] == [b["name"] for b in default_catalog().bodies]

        await start_and_stop(duty)  # same table: no second bulk overwrite
        assert len(overwrites(routes.OVERWRITE_GLOBAL_COMMANDS)) == 1

        digest_key = keys.discord_commands_digest(f"{fake.app_id}:global")
        await redis.set(digest_key, "digest-of-an-older-table")
        await start_and_stop(duty)
        assert len(overwrites(routes.OVERWRITE_GLOBAL_COMMANDS)) == 2
        assert await redis.get(digest_key) == default_catalog().digest


async def test_guild_scoped_sync_and_a_stop_before_start_are_fine(
    redis: Redis, redis_url: str, config_file: Path
) -> None:
    async with FakeDiscord() as fake:
        settings = discord_settings(config_file, redis_url, fake, command_guild_id=fake.guild_id)
        duty = DiscordDuty(settings, redis)
        await duty.stop()
        await start_and_stop(duty)
        assert len(fake.commands(guild=True)) == len(default_catalog().bodies)
        assert application_id(fake.token) == fake.app_id


async def wait_for_entry(fake: FakeDiscord, wanted: str, via: str) -> TranscriptEntry:
    def found() -> TranscriptEntry | None:
        return next((e for e in fake.transcript() if e.action == wanted and e.via == via), None)

    return await fake.state.changes.wait_for(found, 5.0)


async def test_slow_work_is_deferred_then_the_original_is_edited(
    redis: Redis, redis_url: str, config_file: Path
) -> None:
    async with discord_stack(
        config_file, redis_url, executor=slow_execute, defer_after_s=0.1
    ) as stack:
        pid = await make_project_in_state(stack.store, ScrumState.IDLE)
        record = await stack.fake.inject_slash(
            discord_path("backlog add_story"), {"project": pid, "title": "Slow"}
        )
        assert (await response_of(stack.fake, record))["type"] == 5
        edited = await wait_for_entry(stack.fake, "edit", "interaction")
        assert edited.message["embeds"][0]["title"] == f"/backlog add_story · {pid}"


async def test_a_slow_refusal_replaces_the_placeholder_with_an_ephemeral_followup(
    redis: Redis, redis_url: str, config_file: Path
) -> None:
    async with discord_stack(
        config_file, redis_url, executor=slow_execute, defer_after_s=0.1
    ) as stack:
        pid = await make_project_in_state(stack.store, ScrumState.IDLE)
        record = await stack.fake.inject_slash(discord_path("sprint start"), {"project": pid})
        assert (await response_of(stack.fake, record))["type"] == 5
        followup = await wait_for_entry(stack.fake, "create", "followup")
        assert followup.message["flags"] & (1 << 6)
        assert "/sprint start is not allowed in state IDLE" in followup.content
        deleted = await wait_for_entry(stack.fake, "delete", "interaction")
        assert deleted.message_id == record.original_message_id


async def test_after_the_token_expired_the_answer_goes_to_the_channel(
    redis: Redis, redis_url: str, config_file: Path
) -> None:
    async with discord_stack(
        config_file,
        redis_url,
        executor=slow_execute,
        token_ttl_s=0.2,
        defer_after_s=0.05,
    ) as stack:
        pid = await make_project_in_state(stack.store, ScrumState.IDLE)
        record = await stack.fake.inject_slash(
            discord_path("backlog add_story"), {"project": pid, "title": "Late"}
        )
        assert (await response_of(stack.fake, record))["type"] == 5
        message = (await stack.fake.wait_for_messages(2, timeout_s=5.0))[-1]
        human = stack.fake.world.human["id"]
        assert message["content"].startswith(f"<@{human}>")
        assert message["embeds"][0]["title"] == f"/backlog add_story · {pid}"
        assert len(stack.fake.stats.calls(routes.CREATE_MESSAGE)) == 1
        assert len(stack.fake.stats.calls(routes.EDIT_ORIGINAL)) == 0
