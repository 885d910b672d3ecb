"""Entities of the Scrum workflow. Pure data: no I/O, no framework besides pydantic.

Every entity is one small document in Redis with its own `version`, bumped on each write.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = [
    "Approval",
    "ApprovalKind",
    "ApprovalStatus",
    "Entity",
    "Epic",
    "EpicStatus",
    "Priority",
    "Project",
    "ProjectMode",
    "ProjectPriority",
    "ProjectStatus",
    "Retrospective",
    "ScrumState",
    "Sprint",
    "SprintStatus",
    "Story",
    "StoryStatus",
    "Task",
    "TaskStatus",
    "new_id",
    "utcnow",
]

ProjectId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
Priority = Annotated[int, Field(ge=1, le=5, description="1 is the highest priority, 5 the lowest")]


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id(prefix: str) -> str:
    """Ids in the reference's shape: `epic-1a2b3c4d`, `story-…`, `sprint-…`."""
    return f"{prefix}-{secrets.token_hex(4)}"


class ScrumState(StrEnum):
    IDLE = "IDLE"
    BACKLOG_READY = "BACKLOG_READY"
    SPRINT_PLANNED = "SPRINT_PLANNED"
    SPRINT_ACTIVE = "SPRINT_ACTIVE"
    SPRINT_PAUSED = "SPRINT_PAUSED"
    SPRINT_REVIEW = "SPRINT_REVIEW"
    BLOCKED = "BLOCKED"


class ProjectMode(StrEnum):
    BLOCKING = "blocking"
    PARTIAL = "partial"
    AUTONOMOUS = "autonomous"


class ProjectPriority(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class ProjectStatus(StrEnum):
    ACTIVE = "active"
    STOPPED = "stopped"


class EpicStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    ARCHIVED = "archived"


class StoryStatus(StrEnum):
    PROPOSED = "proposed"
    BACKLOG = "backlog"
    SPRINT = "sprint"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    SKIPPED = "skipped"
    REMOVED = "removed"


class SprintStatus(StrEnum):
    PLANNED = "planned"
    ACTIVE = "active"
    PAUSED = "paused"
    REVIEW = "review"
    COMPLETED = "completed"


class TaskStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    BLOCKED = "blocked"
    DONE = "done"
    SKIPPED = "skipped"


class ApprovalKind(StrEnum):
    STORY_PROPOSAL = "story_proposal"
    BLOCKED_TASK = "blocked_task"
    SPRINT_REVIEW = "sprint_review"
    PHASE_RESULT = "phase_result"  # blocking mode: an agent phase's result waits for a human
    BUDGET = "budget"  # a story, sprint or project crossed its token or cost cap
    MERGE = "merge"  # a finished story's branch waits to be merged into the default branch


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Entity(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: str
    version: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    def touched(self, **changes: Any) -> Self:
        """A copy with `changes` applied and `updated_at` set; the store bumps `version`."""
        return self.model_copy(update={**changes, "updated_at": utcnow()})


class Project(Entity):
    id: ProjectId
    name: ShortText
    repo_url: str = Field(min_length=1, max_length=2_000)
    default_branch: str = "main"
    test_command: str = "python -m pytest -q"
    mode: ProjectMode = ProjectMode.BLOCKING
    priority: ProjectPriority = ProjectPriority.NORMAL
    status: ProjectStatus = ProjectStatus.STOPPED
    state: ScrumState = ScrumState.IDLE
    owner: str | None = None
    discord_channel_id: str | None = None
    active_sprint_id: str | None = None
    blocked_story_id: str | None = None
    last_command: str | None = None


class Epic(Entity):
    project_id: str
    title: ShortText
    description: str = ""
    status: EpicStatus = EpicStatus.ACTIVE
    created_by: str = ""
    proposed_story_ids: list[str] = Field(default_factory=list)


class Story(Entity):
    project_id: str
    epic_id: str | None = None
    title: ShortText
    description: str = ""
    acceptance_criteria: list[str] = Field(default_factory=list)
    priority: int = Field(default=3, ge=1, le=5)
    points: int | None = Field(default=None, ge=0, le=100)
    status: StoryStatus = StoryStatus.BACKLOG
    sprint_id: str | None = None
    tdd_cycle_id: str | None = None
    fix_hint: str | None = None
    approval_id: str | None = None
    created_by: str = ""


class Retrospective(BaseModel):
    notes: list[str] = Field(default_factory=list)
    what_went_well: list[str] = Field(default_factory=list)
    what_could_improve: list[str] = Field(default_factory=list)
    action_items: list[str] = Field(default_factory=list)


class Sprint(Entity):
    project_id: str
    goal: str = ""
    story_ids: list[str] = Field(default_factory=list)
    status: SprintStatus = SprintStatus.PLANNED
    start_date: datetime | None = None
    end_date: datetime | None = None
    retrospective: Retrospective = Field(default_factory=Retrospective)
    change_requests: list[str] = Field(default_factory=list)
    review_summary: str = Field(default="", description="The Data agent's sprint review")
    review_metrics: dict[str, Any] = Field(
        default_factory=dict, description="Velocity, burndown and cycle times at review time"
    )


class Task(Entity):
    project_id: str
    story_id: str
    description: str
    status: TaskStatus = TaskStatus.PENDING
    attempts: int = 0
    hint: str | None = None


class Approval(Entity):
    project_id: str
    kind: ApprovalKind
    subject_id: str
    summary: str = ""
    status: ApprovalStatus = ApprovalStatus.PENDING
    requested_by: str = ""
    decided_by: str | None = None
    reason: str | None = None
    decided_at: datetime | None = None
    deadline_at: datetime | None = Field(
        default=None, description="Decide before this (none: discord.approval_deadline_s)"
    )
    expiry_action: Literal["reject", "skip", "none"] | None = Field(
        default=None, description="At the deadline: reject (proposals), skip (blocked tasks)"
    )
