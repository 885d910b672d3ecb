"""Every command of the table as a slash command: the fake Discord, a real hikari GatewayBot
(our duty), real Valkey. Each project command runs in its first legal state (a success embed,
the project in the table's result state, the Discord user on the timeline) and in its first
illegal state (an ephemeral refusal naming the state and exactly the allowed commands)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from shared.domain.commands import COMMANDS, command_names
from shared.domain.models import ScrumState
from shared.domain.scrum import allowed_commands
from tests.factories import (
    dump_project,
    get_project,
    make_project_in_state,
    register_project,
    timeline_events,
)
from tests.integration.discord_fixtures import (
    DiscordStack,
    acting_as,
    add_member,
    discord_stack,
    is_ephemeral,
    slash,
)
from tests.integration.test_command_matrix import valid_args

pytestmark = pytest.mark.integration

STATES = list(ScrumState)


def _cases() -> list[tuple[str, ScrumState, bool]]:
    cases = []
    for name in command_names("project"):
        allowed = COMMANDS[name].allowed_from
        legal = next((s for s in STATES if s in allowed), None)
        illegal = next((s for s in STATES if s not in allowed), None)
        cases += [(name, s, s is legal) for s in (legal, illegal) if s is not None]
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
async def stack(redis_url: str, _empty_config_file: Path) -> AsyncIterator[DiscordStack]:
    async with discord_stack(_empty_config_file, redis_url) as running:
        yield running


def as_options(args: dict[str, Any]) -> dict[str, Any]:
    """Arguments as a Discord user types them: lists comma-separated."""

    def one(value: Any) -> Any:
        if isinstance(value, list):
            return ",".join(v["title"] if isinstance(v, dict) else str(v) for v in value)
        return value

    return {k: one(v) for k, v in args.items()}


def test_every_project_command_has_a_case_and_a_legal_one_where_the_table_has_one() -> None:
    assert {c for c, _, _ in CASES} == set(command_names("project"))
    legal = {c for c, _, ok in CASES if ok}
    assert legal == {c for c in command_names("project") if COMMANDS[c].allowed_from}


@pytest.mark.parametrize(
    ("command", "state", "legal"),
    CASES,
    ids=[f"{c}-{s.value}-{'ok' if ok else 'refused'}" for c, s, ok in CASES],
)
async def test_slash_command_in_state(
    stack: DiscordStack, redis: Redis, command: str, state: ScrumState, legal: bool
) -> None:
    store = stack.store
    pid = await make_project_in_state(store, state)
    options = {"project": pid, **as_options(await valid_args(store, pid, command))}
    dump_before = await dump_project(redis, pid)

    response = await slash(stack.fake, command, options)

    if not legal:
        assert is_ephemeral(response)
        content = response["data"]["content"]
        assert f"/{command} is not allowed in state {state.value}" in content
        allowed = ", ".join(f"/{c}" for c in allowed_commands(state))
        assert content.split("\n-# trace ")[0].endswith(f"Allowed now: {allowed}")
        assert await dump_project(redis, pid) == dump_before
        return
    assert not is_ephemeral(response), response
    [embed] = response["data"]["embeds"]
    assert embed["title"] == f"/{command} · {pid}"
    project = await get_project(store, pid)
    assert project.state is COMMANDS[command].result_state(state)
    if COMMANDS[command].mutating:
        last = next(e for e in reversed(await timeline_events(store, pid)) if e.command == command)
        assert last.actor == f"discord:{stack.fake.world.human['id']}"


async def test_global_commands_run_from_discord(stack: DiscordStack, redis: Redis) -> None:
    fake = stack.fake
    registered = await slash(fake, "project register", {"repo_url": "/srv/git/d.git", "id": "d-1"})
    assert registered["data"]["embeds"][0]["title"] == "/project register · d-1"
    for command in ("project start", "project stop"):
        response = await slash(fake, command, {"project": "d-1"})
        assert not is_ephemeral(response), response
    for command in ("project list", "global status", "resource status"):
        response = await slash(fake, command)
        assert response["data"]["embeds"][0]["title"].startswith(f"/{command}"), response


async def test_a_lower_role_is_refused_naming_the_role_needed(
    stack: DiscordStack, redis: Redis
) -> None:
    pid = await register_project(stack.store)
    viewer = add_member(stack.fake, "vic", "viewer")
    dump_before = await dump_project(redis, pid)
    with acting_as(stack.fake, viewer):
        refused = await slash(stack.fake, "backlog add_story", {"project": pid, "title": "x"})
        allowed = await slash(stack.fake, "backlog view", {"project": pid})
    assert is_ephemeral(refused)
    assert "needs the member role" in refused["data"]["content"]
    assert await dump_project(redis, pid) == dump_before
    assert not is_ephemeral(allowed)


async def test_malformed_options_are_refused_naming_the_field(
    stack: DiscordStack, redis: Redis
) -> None:
    pid = await register_project(stack.store)
    dump_before = await dump_project(redis, pid)
    bad = {"project": pid, "title": "x", "priority": 9}
    response = await slash(stack.fake, "backlog add_story", bad)
    assert is_ephemeral(response)
    content = response["data"]["content"]
    assert content.startswith("Invalid options for /backlog add_story: priority:")
    assert await dump_project(redis, pid) == dump_before
