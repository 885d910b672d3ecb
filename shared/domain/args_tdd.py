"""Argument models of the `/tdd` commands (see `args` for how surfaces render them)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, StringConstraints, model_validator

from shared.domain.args import CommandArgs, EntityId

__all__ = [
    "TddLogsArgs",
    "TddMetricsArgs",
    "TddOverviewArgs",
    "TddResumeArgs",
    "TddSkipPhaseArgs",
    "TddStartArgs",
    "TddStoryArgs",
]

Justification = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2_000)
]
StreamId = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}-[0-9]{1,20}$")]


class TddStoryArgs(CommandArgs):
    story_id: EntityId | None = Field(
        default=None,
        description="Story whose cycle to use; default: the one cycle of the sprint it fits",
    )


class TddStartArgs(CommandArgs):
    story_id: EntityId = Field(description="Story of the current sprint to start a cycle for")


class TddResumeArgs(TddStoryArgs):
    all: bool = Field(default=False, description="Resume every paused cycle of the sprint")

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if self.all and self.story_id:
            raise ValueError("give a story_id or all, not both")
        return self


class TddSkipPhaseArgs(CommandArgs):
    story_id: EntityId = Field(description="Story whose current phase to skip")
    justification: Justification = Field(description="Why the gate may be skipped, for the record")


class TddLogsArgs(TddStoryArgs):
    limit: int = Field(default=50, ge=1, le=500, description="Events per page")
    before: StreamId | None = Field(
        default=None, description="Cursor: the next_cursor of the previous (newer) page"
    )
    include_tools: bool = Field(default=False, description="Also list the agents' tool calls")


class TddOverviewArgs(CommandArgs):
    sprint_id: EntityId | None = Field(
        default=None, description="Sprint to show; default the current sprint, else the latest"
    )


class TddMetricsArgs(CommandArgs):
    sprint_id: EntityId | None = Field(default=None, description="Only this sprint's cycles")
    sprints: int = Field(
        default=10, ge=1, le=100, description="Without sprint_id: how many recent sprints count"
    )
