"""Discord interactions are counted by command and outcome, traced, and refusals name the trace."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from shared.observability.tracing import setup_tracing
from shared.platform.settings import load_settings
from tests.factories import register_project
from tests.integration.discord_fixtures import (
    DiscordStack,
    acting_as,
    add_member,
    discord_stack,
    is_ephemeral,
    response_of,
    slash,
)

pytestmark = pytest.mark.integration

TRACE_LINE = re.compile(r"\n-# trace ([0-9a-f]{32})$")


@pytest.fixture(scope="module")
async def stack(redis_url: str, _empty_config_file: Path) -> AsyncIterator[DiscordStack]:
    setup_tracing("gateway", load_settings(_empty_config_file, awf_env="test"))  # as the pod
    async with discord_stack(_empty_config_file, redis_url) as running:
        yield running


def counted(command: str, status: str) -> float:
    labels = {"command": command, "status": status}
    return REGISTRY.get_sample_value("discord_commands_total", labels) or 0.0


async def test_each_interaction_is_counted_by_command_and_outcome(
    stack: DiscordStack, redis: Redis
) -> None:
    pid = await register_project(stack.store)
    viewer = add_member(stack.fake, "vera", "viewer")
    before = {
        key: counted(*key)
        for key in [("project list", "ok"), ("sprint start", "refused"), ("unknown", "ok")]
    }
    denied_before = counted("backlog add_story", "denied")

    await slash(stack.fake, "project list")
    await slash(stack.fake, "sprint start", {"project": pid})  # IDLE: refused by the table
    await response_of(stack.fake, await stack.fake.inject_slash("no such thing", {}))
    with acting_as(stack.fake, viewer):
        await slash(stack.fake, "backlog add_story", {"project": pid, "title": "x"})

    assert {key: counted(*key) - before[key] for key in before} == dict.fromkeys(before, 1.0)
    assert counted("backlog add_story", "denied") == denied_before  # a role refusal is "refused"
    assert counted("backlog add_story", "refused") >= 1


async def test_a_refusal_names_its_trace(stack: DiscordStack, redis: Redis) -> None:
    pid = await register_project(stack.store)
    response = await slash(stack.fake, "sprint start", {"project": pid})
    assert is_ephemeral(response)
    content = response["data"]["content"]
    assert "is not allowed in state IDLE" in content
    assert TRACE_LINE.search(content), content
