"""/project bind_channel from Discord, run in the channel it binds, through the leader's duty
(a real hikari GatewayBot against the fake): from then on the leader posts the project there."""

from __future__ import annotations

from pathlib import Path

import pytest
from redis.asyncio import Redis

from shared.domain.models import ScrumState
from tests.factories import get_project, make_project_in_state, run
from tests.integration.discord_fixtures import (
    discord_path,
    discord_stack,
    is_ephemeral,
    response_of,
)

pytestmark = pytest.mark.integration


async def test_binding_in_a_channel_makes_the_leader_post_there(
    redis: Redis, redis_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "config.yml"
    config.write_text("{}\n")
    async with discord_stack(config, redis_url, notify_poll_s=0.2) as stack:
        fake, store = stack.fake, stack.store
        channel = fake.world.create_channel("calc-dev")
        pid = await make_project_in_state(store, ScrumState.SPRINT_PLANNED)
        record = await fake.inject_slash(
            discord_path("project bind_channel"), {"project": pid}, channel_id=channel["id"]
        )
        response = await response_of(fake, record)
        assert not is_ephemeral(response), response
        assert (await get_project(store, pid)).discord_channel_id == channel["id"]

        await run(store, "sprint start", project_id=pid)
        answer, posted = await fake.wait_for_messages(2, channel_id=channel["id"], timeout_s=5.0)
        assert answer["content"] == "/project bind_channel: done"
        assert posted["content"].startswith("🏃 Sprint sprint-")
        assert fake.messages() == []  # nothing in the channel the command did not bind
