"""The one interaction handler both transports use: Discord's JSON in, the response JSON out.

Each interaction is claimed once (SET NX on its id), so a replay or a pod overlap is handled
once. The invoker's role comes from their guild roles, then the per-user rate limit applies.
Work that is not done within `defer_after_s` is deferred and finished by `Reply.later`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from services.gateway.discord import autocomplete, decisions, wire
from services.gateway.discord.access import take_rate_slot
from services.gateway.discord.catalog import invocation_of
from services.gateway.discord.delivery import Delivery
from services.gateway.discord.interaction import Answer, Interaction, Reply, refusal
from services.gateway.discord.observed import command_label, count, with_trace_id
from services.gateway.discord.render import error_text
from services.gateway.discord.slash import run_slash
from shared.domain.commands import Role
from shared.observability.tracing import tracer
from shared.platform.errors import AppError
from shared.state import keys
from shared.workflow.context import Actor

if TYPE_CHECKING:
    from services.gateway.discord.access import RoleResolver
    from services.gateway.discord.env import HandlerEnv

__all__ = ["HandlerPolicy", "InteractionHandler"]

log = structlog.get_logger("gateway.discord.handler")

Flow = Callable[["HandlerEnv", Interaction, Actor], Awaitable[Answer]]
_FLOWS: dict[int, Flow] = {
    wire.COMMAND: run_slash,
    wire.COMPONENT: decisions.click,
    wire.MODAL_SUBMIT: decisions.submit,
}
_DUPLICATE = "This interaction was already handled (a repeated delivery); nothing changed."


@dataclass(frozen=True)
class HandlerPolicy:
    max_commands_per_minute: int = 20
    defer_after_s: float = 2.0
    command_timeout_s: float = 30.0
    dedupe_ttl_s: int = 3600


class InteractionHandler:
    def __init__(
        self, env: HandlerEnv, roles: RoleResolver, delivery: Delivery, policy: HandlerPolicy
    ) -> None:
        self._env = env
        self._roles = roles
        self._delivery = delivery
        self._policy = policy

    async def handle(self, payload: Mapping[str, Any]) -> Reply:
        """The response to send for `payload`; raises BadRequest when it is not an interaction."""
        interaction = Interaction.from_payload(payload)
        if interaction.type == wire.PING:
            return Reply(wire.response(wire.PONG))
        if interaction.type == wire.AUTOCOMPLETE:
            return Reply(await self._autocomplete(interaction))
        label = command_label(interaction, self._env.catalog)
        with tracer.start_as_current_span(f"discord {label}", kind=SpanKind.SERVER) as span:
            span.set_attribute("discord.interaction.id", interaction.id)
            return await self._decide(interaction, label)

    async def _decide(self, interaction: Interaction, label: str) -> Reply:
        if not await self._claim(interaction):
            count(label, "duplicate")
            return Reply(_message(refusal(_DUPLICATE)), duplicate=True)
        actor, refused = await self._admit(interaction)
        if actor is None:
            count(label, "denied")
            return Reply(_message(refused or refusal("Refused.")))
        flow = _FLOWS.get(interaction.type)
        if flow is None:
            count(label, "unsupported")
            return Reply(_message(refusal("This kind of interaction is not supported here.")))
        return await self._answer(interaction, self._safely(flow, interaction, actor, label))

    async def _autocomplete(self, interaction: Interaction) -> dict[str, Any]:
        role = await self._role(interaction)
        found = await autocomplete.choices(self._env.store, interaction) if role else []
        return wire.response(wire.CHOICES_RESULT, {"choices": found})

    async def _claim(self, interaction: Interaction) -> bool:
        key = keys.discord_interaction(interaction.id)
        claimed = await self._env.store.redis.set(key, "1", nx=True, ex=self._policy.dedupe_ttl_s)
        return bool(claimed)

    async def _role(self, interaction: Interaction) -> Role | None:
        if interaction.guild_id is None or interaction.user_id is None:
            return None
        return await self._roles.role_of(interaction.guild_id, interaction.role_ids)

    async def _admit(self, interaction: Interaction) -> tuple[Actor | None, Answer | None]:
        if interaction.guild_id is None or interaction.user_id is None:
            return None, refusal("Use this bot's commands in the server, not in direct messages.")
        role = await self._role(interaction)
        if role is None:
            return None, refusal(
                "You have no role that may use this bot. Ask an admin to map one of your "
                "Discord roles in discord.roles (viewer, member, approver or admin)."
            )
        limit = self._policy.max_commands_per_minute
        verdict = await take_rate_slot(
            self._env.store.redis, interaction.user_id, limit, interaction.id
        )
        if not verdict.allowed:
            return None, refusal(
                f"Slow down: at most {limit} commands a minute "
                f"(discord.max_commands_per_minute). Try again in {verdict.retry_after_s:.0f} s."
            )
        return Actor(interaction.actor_name, role), None

    async def _safely(
        self, flow: Flow, interaction: Interaction, actor: Actor, label: str
    ) -> Answer:
        try:
            answer = await flow(self._env, interaction, actor)
        except (AppError, ValidationError) as exc:
            count(label, "refused")
            return refusal(with_trace_id(error_text(exc, _command_name(interaction))))
        except Exception:
            log.exception("interaction_failed", interaction_id=interaction.id)
            count(label, "error")
            return refusal(with_trace_id(error_text(RuntimeError())))
        count(label, "ok")
        return answer

    def hurry(self) -> None:
        """Answer what is in flight now instead of waiting for slow work (the leader leaves)."""
        self._delivery.hurry()

    async def _answer(self, interaction: Interaction, work: Awaitable[Answer]) -> Reply:
        task = asyncio.ensure_future(work)
        if await self._delivery.settled(task, self._policy.defer_after_s):
            return Reply(_message(task.result()))
        deferred = (
            wire.DEFERRED_UPDATE if interaction.type == wire.COMPONENT else wire.DEFERRED_MESSAGE
        )
        timeout_s = self._policy.command_timeout_s

        async def finish() -> None:
            await self._delivery.finish(interaction, task, timeout_s)

        return Reply(wire.response(deferred), later=finish)


def _message(answer: Answer) -> dict[str, Any]:
    return wire.response(answer.kind, answer.data)


def _command_name(interaction: Interaction) -> str | None:
    if interaction.type != wire.COMMAND:
        return None
    return " ".join(invocation_of(interaction.data).path)
