"""Stories the backlog agent proposes for an epic; each waits for /approve."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.domain.args import ProposedStory
from shared.domain.commands import Role
from shared.domain.models import Epic, Project
from shared.state import keys, timeline
from shared.state.timeline import TimelineEvent
from shared.workflow import budgets
from shared.workflow.context import Actor, CommandContext, Limits
from shared.workflow.handlers.epics import propose_story
from shared.workflow.repo import require

if TYPE_CHECKING:
    from shared.state.store import Store, Transaction

__all__ = ["AGENT_ACTOR", "add_proposals"]

AGENT_ACTOR = Actor("agent:backlog", Role.MEMBER)


async def add_proposals(
    store: Store,
    project_id: str,
    epic_id: str,
    stories: list[ProposedStory],
    cost_usd: float = 0.0,
) -> list[str]:
    """Add the proposals once per epic, and charge what the agent cost; a repeated job finds
    them there and adds (and charges) nothing."""

    async def body(tx: Transaction) -> list[str]:
        project = await require(tx, Project, keys.project(project_id), f"Project {project_id}")
        epic_key = keys.entity(project_id, "epic", epic_id)
        epic = await require(tx, Epic, epic_key, f"Epic {epic_id}")
        if epic.proposed_story_ids:
            return epic.proposed_story_ids
        ctx = CommandContext(tx=tx, project=project, actor=AGENT_ACTOR, limits=Limits())
        ids = [await propose_story(ctx, epic_id, s) for s in stories]
        budgets.charge_agent_in(tx, project_id, "backlog", cost_usd)
        tx.put(epic_key, epic.touched(proposed_story_ids=ids))
        saved = tx.put(keys.project(project_id), project.touched())
        timeline.append(
            tx,
            project_id,
            TimelineEvent(
                actor=AGENT_ACTOR.name,
                command="stories proposed",
                version=saved.version,
                payload={"epic_id": epic_id, "story_ids": ids},
            ),
        )
        return ids

    return await store.atomic(body)
