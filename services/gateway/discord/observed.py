"""Each Discord interaction as a span and a `discord_commands_total{command,status}` sample."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.gateway.discord import wire
from services.gateway.discord.catalog import invocation_of
from shared.observability import metrics
from shared.observability.tracing import current_trace_id

if TYPE_CHECKING:
    from services.gateway.discord.catalog import Catalog
    from services.gateway.discord.interaction import Interaction

__all__ = ["command_label", "count", "with_trace_id"]

_KINDS = {wire.COMPONENT: "button", wire.MODAL_SUBMIT: "modal"}


def command_label(interaction: Interaction, catalog: Catalog) -> str:
    """The command's name from our table; `unknown` for anything else, so a client sending
    made-up names cannot grow the metric without bound."""
    if interaction.type != wire.COMMAND:
        return _KINDS.get(interaction.type, "other")
    command = catalog.command_for(invocation_of(interaction.data).path)
    return command.name if command else "unknown"


def count(command: str, status: str) -> None:
    metrics.DISCORD_COMMANDS.labels(command, status).inc()


def with_trace_id(text: str) -> str:
    """An error text with the trace id under it, for finding the logs and the trace."""
    trace_id = current_trace_id()
    return f"{text}\n-# trace {trace_id}" if trace_id else text
