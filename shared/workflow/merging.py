"""Getting a finished story onto the default branch, which agents never write themselves.

Every finished story asks a human to approve its merge, whatever the project's mode; the merge
job then runs the suite on the merged result and pushes only when it is green. A conflict or a
red suite asks again, with the reason.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.domain.models import ApprovalKind, Project
from shared.jobs.specs import JobSpec
from shared.state import timeline
from shared.state.timeline import TimelineEvent
from shared.workflow import system

if TYPE_CHECKING:
    from shared.domain.tdd import TDDCycle
    from shared.state.store import Store, Transaction

__all__ = ["after_done_in", "ask_again", "record_merged"]


async def after_done_in(tx: Transaction, project: Project, cycle: TDDCycle) -> list[JobSpec]:
    summary = (
        f"Story {cycle.story_id} is done on {cycle.branch} (head {(cycle.head_sha or '')[:12]}). "
        f"Approve to merge it into {project.default_branch}; the suite must pass on the merged "
        "result before anything is pushed."
    )
    await system.request_approval_in(tx, project.id, ApprovalKind.MERGE, cycle.story_id, summary)
    return []


async def record_merged(store: Store, project_id: str, story_id: str, sha: str) -> None:
    event = TimelineEvent(
        actor="orchestrator",
        command="story merged",
        payload={"story_id": story_id, "commit_sha": sha},
    )
    await timeline.publish(store.redis, project_id, event)


async def ask_again(store: Store, project_id: str, story_id: str, reason: str) -> None:
    """The merge could not be pushed: tell why and ask a human to decide again."""
    summary = f"Merging story {story_id} failed: {reason} Fix the branch, then approve to retry."

    async def body(tx: Transaction) -> None:
        await system.request_approval_in(
            tx, project_id, ApprovalKind.MERGE, story_id, summary[:2_000]
        )
        event = TimelineEvent(
            actor="orchestrator",
            command="merge refused",
            payload={"story_id": story_id, "reason": reason[:1_000]},
        )
        timeline.append(tx, project_id, event)

    await store.atomic(body)
