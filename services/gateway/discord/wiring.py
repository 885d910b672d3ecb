"""Build the interaction handler from settings: the one recipe the gateway and the API share."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from services.gateway.discord.access import RoleResolver
from services.gateway.discord.catalog import Catalog, build_catalog
from services.gateway.discord.delivery import TOKEN_TTL_S, Delivery
from services.gateway.discord.env import HandlerEnv
from services.gateway.discord.handler import HandlerPolicy, InteractionHandler
from shared.domain.models import ProjectMode
from shared.workflow.context import Limits
from shared.workflow.executor import execute

if TYPE_CHECKING:
    from arq.connections import ArqRedis

    from services.gateway.discord.env import Executor
    from services.gateway.discord.rest import DiscordRest
    from shared.platform.settings import Settings
    from shared.state.store import Store

__all__ = ["build_handler", "default_catalog"]


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The command table rendered once per process (it is fixed at import time)."""
    return build_catalog()


def build_handler(
    settings: Settings,
    store: Store,
    queue: ArqRedis,
    rest: DiscordRest | None,
    *,
    executor: Executor = execute,
    token_ttl_s: float = TOKEN_TTL_S,
) -> InteractionHandler:
    discord = settings.discord
    limits = Limits(
        max_concurrent_projects=settings.orchestrator.max_concurrent_projects,
        default_mode=ProjectMode(settings.orchestrator.mode),
    )
    env = HandlerEnv(
        store,
        queue,
        limits,
        default_catalog(),
        discord.approver_must_differ,
        discord.public_api_url,
        executor,
    )
    roles = RoleResolver(discord.roles, store.redis, rest.guild_roles if rest else None)
    policy = HandlerPolicy(
        max_commands_per_minute=discord.max_commands_per_minute,
        defer_after_s=discord.defer_after_s,
        command_timeout_s=discord.command_timeout,
        dedupe_ttl_s=settings.gateway.event_dedupe_ttl_s,
    )
    return InteractionHandler(env, roles, Delivery(rest, token_ttl_s), policy)
