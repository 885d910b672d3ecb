"""Argument models of every command, one pydantic model each.

These are the single description of what a command takes: the API validates request bodies
with them, the CLI, Discord and the web board render their options from the fields (required
fields become positional arguments, optional ones become options), and their JSON schema is
what OpenAPI publishes.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "ENTITY_ID_PATTERN",
    "ApproveArgs",
    "BacklogAddStoryArgs",
    "BacklogPrioritizeArgs",
    "BacklogRemoveArgs",
    "BacklogViewArgs",
    "CommandArgs",
    "DescriptionArgs",
    "EpicArgs",
    "NoArgs",
    "PriorityChoice",
    "ProjectBindChannelArgs",
    "ProjectIdArgs",
    "ProjectListArgs",
    "ProjectRegisterArgs",
    "ProposedStory",
    "RejectArgs",
    "SprintPlanArgs",
]

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Criterion = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1_000)]
ENTITY_ID_PATTERN = r"^[a-z]+-[0-9a-f]{8}$"  # story-1a2b3c4d, approval-…, epic-…, sprint-…
EntityId = Annotated[str, StringConstraints(pattern=ENTITY_ID_PATTERN)]
ProjectIdStr = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
ChannelId = Annotated[str, StringConstraints(pattern=r"^\d{1,20}$", max_length=20)]
PriorityChoice = Literal["top", "high", "medium", "low"]


class CommandArgs(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NoArgs(CommandArgs):
    pass


class ProposedStory(CommandArgs):
    title: Title
    description: str = Field(default="", max_length=10_000)
    acceptance_criteria: list[Criterion] = Field(default_factory=list, max_length=50)


class EpicArgs(CommandArgs):
    description: Text = Field(description="What the epic should achieve")
    title: Title | None = Field(
        default=None, description="Short title (defaults to the start of the description)"
    )
    stories: list[ProposedStory] = Field(
        default_factory=list,
        max_length=100,
        description="Stories proposed for the epic; each waits for /approve",
    )


class ApproveArgs(CommandArgs):
    ids: list[EntityId] = Field(
        default_factory=list,
        max_length=500,
        description="Story or approval ids to approve; none approves every pending story",
    )


class RejectArgs(CommandArgs):
    ids: list[EntityId] = Field(
        min_length=1, max_length=500, description="Story or approval ids to reject"
    )
    reason: str = Field(default="", max_length=2_000, description="Why, for the record")


class BacklogViewArgs(CommandArgs):
    id: EntityId | None = Field(default=None, description="Show one story in full")
    status: Literal["proposed", "backlog", "sprint", "all"] = Field(
        default="backlog", description="Which stories to list"
    )
    limit: int = Field(default=50, ge=1, le=500, description="Page size")
    cursor: str | None = Field(
        default=None, max_length=200, description="Cursor from the previous page"
    )


class BacklogAddStoryArgs(CommandArgs):
    title: Title = Field(description="Story title")
    description: str = Field(default="", max_length=10_000, description="What and why")
    acceptance_criteria: list[Criterion] = Field(
        default_factory=list, max_length=50, description="Testable acceptance criteria"
    )
    priority: int = Field(default=3, ge=1, le=5, description="1 (highest) to 5 (lowest)")
    points: int | None = Field(default=None, ge=0, le=100, description="Estimate in story points")
    epic_id: EntityId | None = Field(default=None, description="Epic the story belongs to")


class BacklogRemoveArgs(CommandArgs):
    story_id: EntityId = Field(description="Story to remove from the backlog")


class BacklogPrioritizeArgs(CommandArgs):
    story_id: EntityId = Field(description="Story to move")
    priority: PriorityChoice = Field(description="top, high, medium or low")


class SprintPlanArgs(CommandArgs):
    story_ids: list[EntityId] = Field(
        default_factory=list,
        max_length=100,
        description="Stories for the sprint; none takes the top of the backlog up to `capacity`",
    )
    goal: str = Field(default="", max_length=1_000, description="Sprint goal")
    capacity: int = Field(
        default=10, ge=1, le=100, description="Stories taken when no ids are given"
    )


class DescriptionArgs(CommandArgs):
    description: Text = Field(description="Free text")


class ProjectRegisterArgs(CommandArgs):
    repo_url: str = Field(
        min_length=1, max_length=2_000, description="Git remote: a local path or URL"
    )
    name: Title | None = Field(
        default=None, description="Display name (defaults to the repository name)"
    )
    id: ProjectIdStr | None = Field(
        default=None, description="Project id (defaults to a slug of the name)"
    )
    default_branch: str = Field(default="main", min_length=1, max_length=200)
    test_command: str = Field(default="python -m pytest -q", min_length=1, max_length=1_000)
    mode: Literal["blocking", "partial", "autonomous"] | None = Field(
        default=None, description="Orchestration mode (defaults to orchestrator.mode)"
    )
    priority: Literal["critical", "high", "normal", "low"] = "normal"


class ProjectIdArgs(CommandArgs):
    project: ProjectIdStr = Field(description="Project id")


class ProjectBindChannelArgs(CommandArgs):
    project: ProjectIdStr = Field(description="Project id")
    channel_id: ChannelId | None = Field(
        default=None, description="Channel to post progress in (default: where you run it)"
    )


class ProjectListArgs(CommandArgs):
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, max_length=200)
