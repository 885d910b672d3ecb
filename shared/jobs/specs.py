"""Jobs a command asks for, described as data; enqueued only after the command committed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shared.jobs import names

__all__ = ["JobSpec", "merge_job", "phase_job", "propose_job", "review_job", "schedule_job"]


@dataclass(frozen=True)
class JobSpec:
    function: str
    job_id: str
    project_id: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    defer_s: float | None = None
    dedupe: bool = True  # claim job_id once with SET NX; off for idempotent nudges


def schedule_job(project_id: str, reason: str) -> JobSpec:
    """Nudge the sprint scheduler; repeated nudges are harmless, so no long-lived dedup."""
    return JobSpec(
        names.SCHEDULE_SPRINT,
        f"schedule:{project_id}:{reason}",
        project_id,
        {"project_id": project_id},
        dedupe=False,
    )


def phase_job(project_id: str, cycle_id: str, phase: str, run: int) -> JobSpec:
    job_id = f"phase:{project_id}:{cycle_id}:{phase}:{run}"
    return JobSpec(
        names.RUN_PHASE,
        job_id,
        project_id,
        {"project_id": project_id, "cycle_id": cycle_id, "run": run},
    )


def propose_job(project_id: str, epic_id: str) -> JobSpec:
    return JobSpec(
        names.PROPOSE_BACKLOG,
        f"backlog:{project_id}:{epic_id}",
        project_id,
        {"project_id": project_id, "epic_id": epic_id},
    )


def review_job(project_id: str, sprint_id: str) -> JobSpec:
    """The Data agent's review of a finished sprint: once per sprint."""
    return JobSpec(
        names.REVIEW_SPRINT,
        f"review:{project_id}:{sprint_id}",
        project_id,
        {"project_id": project_id, "sprint_id": sprint_id},
    )


def merge_job(project_id: str, story_id: str, approval_id: str | None = None) -> JobSpec:
    """Merge a finished story's branch into the default branch: once per approval, or once
    without one in autonomous mode (then only when it touches no security-critical path)."""
    return JobSpec(
        names.MERGE_STORY,
        f"merge:{project_id}:{story_id}:{approval_id or 'auto'}",
        project_id,
        {"project_id": project_id, "story_id": story_id, "approval_id": approval_id},
    )
