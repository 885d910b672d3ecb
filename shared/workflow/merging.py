"""Getting a finished story onto the default branch, which agents never write themselves.

`blocking` and `partial` projects keep a finished story quarantined on its branch and ask a human
to approve its merge. An `autonomous` project merges it without asking, unless it touches a
security-critical path (`orchestrator.security_paths`). Either way the merge job runs the suite
on the merged result and pushes only when it is green; a conflict, a red suite or a flagged path
asks a human, with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.domain.models import ApprovalKind, Project, ProjectMode
from shared.jobs.specs import JobSpec, merge_job
from shared.state import timeline
from shared.state.timeline import TimelineEvent
from shared.workflow import system

if TYPE_CHECKING:
    from shared.domain.tdd import TDDCycle
    from shared.state.store import Store, Transaction

__all__ = ["AUTONOMOUS_APPROVER", "after_done_in", "ask_again", "ask_to_merge", "record_merged"]

AUTONOMOUS_APPROVER = "autonomous mode"


async def after_done_in(tx: Transaction, project: Project, cycle: TDDCycle) -> list[JobSpec]:
    if project.mode is ProjectMode.AUTONOMOUS:
        event = TimelineEvent(
            actor="orchestrator",
            command="merge queued",
            payload={"story_id": cycle.story_id, "approved_by": AUTONOMOUS_APPROVER},
        )
        timeline.append(tx, project.id, event)
        return [merge_job(project.id, cycle.story_id)]
    summary = (
        f"Story {cycle.story_id} is done on {cycle.branch} (head {(cycle.head_sha or '')[:12]}). "
        f"Approve to merge it into {project.default_branch}; the suite must pass on the merged "
        "result before anything is pushed."
    )
    approval = await system.request_approval_in(
        tx, project.id, ApprovalKind.MERGE, cycle.story_id, summary
    )
    event = TimelineEvent(
        actor="orchestrator",
        command="merge requested",
        payload={"story_id": cycle.story_id, "approval_id": approval.id},
    )
    timeline.append(tx, project.id, event)  # the story's thread gets the approve buttons
    return []


async def record_merged(
    store: Store, project_id: str, story_id: str, sha: str, approved_by: str
) -> None:
    event = TimelineEvent(
        actor="orchestrator",
        command="story merged",
        payload={"story_id": story_id, "commit_sha": sha, "approved_by": approved_by},
    )
    await timeline.publish(store.redis, project_id, event)


async def ask_again(store: Store, project_id: str, story_id: str, reason: str) -> None:
    """The merge could not be pushed: tell why and ask a human to decide again."""
    summary = f"Merging story {story_id} failed: {reason} Fix the branch, then approve to retry."
    await _ask(store, project_id, story_id, summary, "merge refused", reason)


async def ask_to_merge(store: Store, project_id: str, story_id: str, reason: str) -> None:
    """An automatic merge that needs a human after all (the reason says why)."""
    summary = f"Story {story_id} was not merged automatically: {reason} Approve to merge it."
    await _ask(store, project_id, story_id, summary, "merge needs approval", reason)


async def _ask(
    store: Store, project_id: str, story_id: str, summary: str, command: str, reason: str
) -> None:
    async def body(tx: Transaction) -> None:
        approval = await system.request_approval_in(
            tx, project_id, ApprovalKind.MERGE, story_id, summary[:2_000]
        )
        event = TimelineEvent(
            actor="orchestrator",
            command=command,
            payload={"story_id": story_id, "reason": reason[:1_000], "approval_id": approval.id},
        )
        timeline.append(tx, project_id, event)

    await store.atomic(body)
