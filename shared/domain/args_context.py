"""Argument models of the `/context` commands (see `args` for how surfaces render them)."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import Field

from shared.domain.args import CommandArgs, EntityId

__all__ = ["AGENT_NAMES", "AgentName", "ContextMemoryArgs", "ContextStatusArgs"]

# The agent roles of shared.agents.roles.RoleName; a unit test keeps the two equal.
AgentName = Literal["backlog", "design", "qa", "code", "refactor", "data"]
AGENT_NAMES: tuple[str, ...] = get_args(AgentName)


class ContextStatusArgs(CommandArgs):
    story_id: EntityId | None = Field(
        default=None, description="Show this story's last context in full; default: the latest"
    )
    limit: int = Field(default=10, ge=1, le=50, description="How many recent contexts to list")


class ContextMemoryArgs(CommandArgs):
    agent: AgentName | None = Field(default=None, description="Only this agent; default: all")
    limit: int = Field(default=10, ge=1, le=20, description="Notes per agent, newest first")
