"""Transitions the orchestrator makes itself: a story blocked, a story done.

Workers call these from recorded evidence (issue B); tests call them to reach every state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.domain.models import (
    Approval,
    ApprovalKind,
    Project,
    ScrumState,
    Sprint,
    Story,
    StoryStatus,
    new_id,
)
from shared.domain.scrum import SystemEvent, check_system_event
from shared.platform.errors import InvalidTransition, NotFound
from shared.state import keys, timeline
from shared.state.timeline import TimelineEvent
from shared.workflow.handlers.sprints import FINISHED
from shared.workflow.repo import next_sequence, require_story

if TYPE_CHECKING:
    from shared.state.store import Store, Transaction

__all__ = [
    "SYSTEM_ACTOR",
    "block_in",
    "block_story",
    "complete_in",
    "complete_story",
    "request_approval_in",
]

SYSTEM_ACTOR = "system"


async def block_story(store: Store, project_id: str, story_id: str, reason: str) -> Project:
    """SPRINT_ACTIVE -> BLOCKED: the story waits for /suggest_fix or /skip_task."""
    return await store.atomic(lambda tx: block_in(tx, project_id, story_id, reason))


async def complete_story(store: Store, project_id: str, story_id: str) -> Project:
    """Mark a sprint story done; when every sprint story is finished while the sprint runs,
    go to SPRINT_REVIEW (a paused sprint gets there on /sprint resume)."""
    return await store.atomic(lambda tx: complete_in(tx, project_id, story_id))


async def block_in(tx: Transaction, project_id: str, story_id: str, reason: str) -> Project:
    """`block_story` inside a caller's transaction."""
    project = await _project(tx, project_id)
    story = await require_story(tx, project_id, story_id)
    to_state = _transition(SystemEvent.TASK_BLOCKED, project)
    await _require_in_sprint(tx, project, story_id)
    approval = await request_approval_in(
        tx, project_id, ApprovalKind.BLOCKED_TASK, story_id, reason
    )
    tx.put(
        keys.entity(project_id, "story", story_id),
        story.touched(status=StoryStatus.BLOCKED, approval_id=approval.id),
    )
    updated = project.touched(state=to_state, blocked_story_id=story_id)
    return _save(
        tx,
        project,
        updated,
        SystemEvent.TASK_BLOCKED,
        {"story_id": story_id, "reason": reason, "approval_id": approval.id},
    )


async def request_approval_in(
    tx: Transaction, project_id: str, kind: ApprovalKind, subject_id: str, summary: str
) -> Approval:
    """A pending approval for a human, asked by the orchestrator, inside a caller's transaction."""
    approval = Approval(
        id=new_id("approval"),
        project_id=project_id,
        kind=kind,
        subject_id=subject_id,
        summary=summary,
        requested_by=SYSTEM_ACTOR,
    )
    seq = await next_sequence(tx, project_id)
    tx.put(keys.entity(project_id, "approval", approval.id), approval)
    tx.call(lambda p: p.zadd(keys.index(project_id, "approvals"), {approval.id: seq}))
    tx.call(lambda p: p.zadd(keys.index(project_id, "approvals:pending"), {approval.id: seq}))
    return approval


async def complete_in(tx: Transaction, project_id: str, story_id: str) -> Project:
    """`complete_story` inside a caller's transaction."""
    project = await _project(tx, project_id)
    story = await require_story(tx, project_id, story_id)
    sprint = await _require_in_sprint(tx, project, story_id)
    tx.put(keys.entity(project_id, "story", story_id), story.touched(status=StoryStatus.DONE))
    running = project.state is ScrumState.SPRINT_ACTIVE
    if not running or not await _others_finished(tx, project, sprint, story_id):
        return _save(tx, project, project.touched(), None, {"story_id": story_id})
    to_state = _transition(SystemEvent.SPRINT_COMPLETED, project)
    return _save(
        tx,
        project,
        project.touched(state=to_state),
        SystemEvent.SPRINT_COMPLETED,
        {"story_id": story_id},
    )


async def _current_sprint(tx: Transaction, project: Project) -> Sprint | None:
    if not project.active_sprint_id:
        return None
    return await tx.get(Sprint, keys.entity(project.id, "sprint", project.active_sprint_id))


async def _require_in_sprint(tx: Transaction, project: Project, story_id: str) -> Sprint:
    sprint = await _current_sprint(tx, project)
    if sprint is None or story_id not in sprint.story_ids:
        raise InvalidTransition(
            f"Story {story_id} is not in the current sprint of project {project.id}.",
            state=project.state.value,
            allowed_commands=[],
        )
    return sprint


async def _others_finished(
    tx: Transaction, project: Project, sprint: Sprint, story_id: str
) -> bool:
    others = [i for i in sprint.story_ids if i != story_id]
    stories = await tx.get_many(Story, [keys.entity(project.id, "story", i) for i in others])
    return all(s is None or s.status in FINISHED for s in stories)


async def _project(tx: Transaction, project_id: str) -> Project:
    project = await tx.get(Project, keys.project(project_id))
    if project is None:
        raise NotFound(f"Project {project_id} not found.")
    return project


def _transition(event: SystemEvent, project: Project) -> Any:
    to_state = check_system_event(event, project.state)
    if to_state is None:
        raise InvalidTransition(
            f"{event.value} does not apply in state {project.state.value}.",
            state=project.state.value,
            allowed_commands=[],
        )
    return to_state


def _save(
    tx: Transaction,
    before: Project,
    after: Project,
    event: SystemEvent | None,
    payload: dict[str, Any],
) -> Project:
    saved = tx.put(keys.project(before.id), after)
    command = event.value if event else "story_done"
    timeline.append(
        tx,
        before.id,
        TimelineEvent(
            actor=SYSTEM_ACTOR,
            command=command,
            from_state=before.state.value,
            to_state=saved.state.value,
            version=saved.version,
            payload=payload,
        ),
    )
    return saved
