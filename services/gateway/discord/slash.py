"""A slash command: resolve it in the catalog, turn its options into arguments, execute."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.gateway.discord import wire
from services.gateway.discord.catalog import invocation_of
from services.gateway.discord.guards import check_not_requester
from services.gateway.discord.interaction import Answer, refusal
from services.gateway.discord.options import args_from_options
from services.gateway.discord.panels import PANEL_COMMANDS, decision_rows
from services.gateway.discord.render import outcome_message
from shared.workflow.context import Actor, CommandRequest

if TYPE_CHECKING:
    from services.gateway.discord.env import HandlerEnv
    from services.gateway.discord.interaction import Interaction
    from services.gateway.discord.wire import Json

__all__ = ["run_slash"]

_FOUR_EYES = frozenset({"approve", "reject"})


async def run_slash(env: HandlerEnv, interaction: Interaction, actor: Actor) -> Answer:
    invocation = invocation_of(interaction.data)
    command = env.catalog.command_for(invocation.path)
    if command is None:
        known = ", ".join(sorted({p[0] for p in env.catalog.commands_by_path}))
        return refusal(
            f"Unknown command /{' '.join(invocation.path)}. Known: /{known.replace(', ', ', /')}."
        )
    options, project_id = _split_project(invocation.options, command.scope == "project")
    args = args_from_options(command.args, options)
    if "channel_id" in command.args.model_fields and "channel_id" not in args:
        args["channel_id"] = interaction.channel_id  # /project bind_channel: this channel
    if env.approver_must_differ and command.name in _FOUR_EYES and project_id:
        await check_not_requester(env.store, project_id, _ids(args), actor.name)
    idempotency_key = f"discord:{interaction.id}" if command.mutating else None
    request = CommandRequest(command.name, args, actor, project_id, idempotency_key)
    outcome = await env.run(request)
    rows: list[Json] = []
    if outcome.project_id and command.name in PANEL_COMMANDS:
        rows = await decision_rows(env.store, outcome.project_id)
    return Answer(wire.MESSAGE, outcome_message(outcome, env.link(outcome), rows))


def _split_project(options: list[Json], wants_project: bool) -> tuple[list[Json], str | None]:
    if not wants_project:
        return options, None
    project = next((o.get("value") for o in options if o.get("name") == "project"), None)
    rest = [o for o in options if o.get("name") != "project"]
    return rest, str(project) if project is not None else None


def _ids(args: dict[str, Any]) -> list[str]:
    ids = args.get("ids") or []
    return [str(i) for i in ids] if isinstance(ids, list) else []
