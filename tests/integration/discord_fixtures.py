"""The Discord bot under test: a real hikari GatewayBot (our duty) against the fake Discord.

`discord_stack(...)` starts the fake, then the duty with settings mapping the fake's guild
roles (admin, approver, member, viewer) to ours. Members are added to the fake's guild with
`add_member`, and `acting_as` makes the fake's clicks and commands come from one of them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from services.gateway.discord.catalog import build_catalog
from services.gateway.discord.duty import DiscordDuty
from services.gateway.discord.env import Executor
from services.gateway.term import Term
from shared.fakes.discord import FakeDiscord, payloads
from shared.fakes.discord.interactions import InteractionRecord
from shared.platform.redis import create_redis
from shared.platform.settings import Settings, load_settings
from shared.state.lease import Grant
from shared.state.store import Store
from shared.workflow.executor import execute

__all__ = [
    "ROLE_NAMES",
    "DiscordStack",
    "acting_as",
    "add_member",
    "discord_path",
    "discord_settings",
    "discord_stack",
    "is_ephemeral",
    "long_term",
    "slash",
]

ROLE_NAMES = ("viewer", "member", "approver", "admin")
READY_S = 5.0
# Restarting the duty in a test must not wait the production IDENTIFY back-off.
FAST_IDENTIFY = {
    "identify_backoff_base_s": 0.01,
    "identify_backoff_max_s": 0.02,
    "identify_flap_window_s": 1.0,
}
_CATALOG = build_catalog()
_PATHS = {name: path for path, name in _CATALOG.commands_by_path.items()}


def discord_path(command: str) -> str:
    """The slash path Discord shows for a table command (`tdd status`, `epic`...)."""
    return " ".join(_PATHS[command])


def discord_settings(
    config_file: Path, redis_url: str, fake: FakeDiscord, **discord: Any
) -> Settings:
    """The fake guild's roles, by name, mapped to ours; its "admin" role is the tester's."""
    roles = {"*": {name: name for name in ROLE_NAMES}}
    section = {"rest_url": fake.rest_url, "roles": roles, "max_commands_per_minute": 10_000}
    return load_settings(
        config_file,
        awf_env="test",
        redis_url=redis_url,
        discord_bot_token=fake.token,
        orchestrator={"max_concurrent_projects": 1_000},
        discord={**section, **discord},
        gateway=FAST_IDENTIFY,
    )


def long_term() -> Term:
    return Term(Grant("test-pod", 1), time.monotonic() + 3600)


@dataclass
class DiscordStack:
    fake: FakeDiscord
    duty: DiscordDuty
    redis: Redis
    settings: Settings

    @property
    def store(self) -> Store:
        return Store(self.redis)


@asynccontextmanager
async def discord_stack(
    config_file: Path,
    redis_url: str,
    *,
    executor: Executor = execute,
    token_ttl_s: float = 15 * 60.0,
    term: Term | None = None,
    **discord: Any,
) -> AsyncIterator[DiscordStack]:
    redis = create_redis(redis_url, "awf-test-discord")
    async with FakeDiscord(heartbeat_interval_ms=500) as fake:
        for name in ROLE_NAMES[:-1]:  # the fake's guild already has "admin"
            fake.world.add_role(name)
        settings = discord_settings(config_file, redis_url, fake, **discord)
        duty = DiscordDuty(settings, redis, executor=executor, token_ttl_s=token_ttl_s)
        await duty.start(term or long_term())
        try:
            await fake.wait_until_ready(READY_S)
            yield DiscordStack(fake, duty, redis, settings)
        finally:
            await duty.stop()
            await redis.aclose()


def add_member(fake: FakeDiscord, name: str, role_name: str | None) -> dict[str, Any]:
    """A new guild member holding the fake guild's role `role_name` (None: no role)."""
    world = fake.world
    user = payloads.user(world.ids.next(), name)
    role_ids = [r["id"] for r in world.guild["roles"] if r["name"] == role_name]
    world.members[user["id"]] = payloads.member(user, role_ids)
    return user


@contextmanager
def acting_as(fake: FakeDiscord, user: dict[str, Any]) -> Iterator[None]:
    """The fake's user actions (slash, click, modal) come from `user` meanwhile."""
    world = fake.world
    before, world.human = world.human, user
    try:
        yield
    finally:
        world.human = before


async def slash(
    fake: FakeDiscord, command: str, options: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run `/command` with `options` and return the first response body."""
    record = await fake.inject_slash(discord_path(command), options or {})
    return await response_of(fake, record)


async def response_of(fake: FakeDiscord, record: InteractionRecord) -> dict[str, Any]:
    return await fake.wait_for_response(record, timeout_s=READY_S)


def is_ephemeral(response: dict[str, Any]) -> bool:
    return bool(int(response.get("data", {}).get("flags") or 0) & (1 << 6))


async def settle(seconds: float = 0.05) -> None:
    await asyncio.sleep(seconds)
