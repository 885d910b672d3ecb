"""review_sprint: the Data agent narrates a finished sprint's metrics for the review.

The numbers come from pure functions (`shared.domain.metrics`); the model only narrates them.
When the provider stays unavailable the summary is written without it, so a review never waits
on the model.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from services.worker.deps import WorkerDeps, deps
from services.worker.pricing import cost_of
from services.worker.retrying import retry_later
from shared.agents.loop import ProviderUnavailable, run_agent
from shared.agents.review_summary import (
    ReviewBrief,
    build_review_brief,
    fallback_summary,
    render_markdown,
)
from shared.agents.roles import RoleName
from shared.agents.task import AgentTask, render_task
from shared.domain.models import Sprint, utcnow
from shared.state import keys, timeline
from shared.state.timeline import TimelineEvent
from shared.workflow import budgets
from shared.workflow.queries import stories_by_id

if TYPE_CHECKING:
    from shared.state.store import Transaction

__all__ = ["review_sprint"]

log = structlog.get_logger("worker.review")
MAX_TRIES = 4
_PAGE = 1_000
_MAX_EVENTS = 50_000
_SYSTEM = (
    "You are the data agent of a Scrum team. Narrate the sprint review from the metrics "
    "given: what was delivered, velocity against history, cycle times, where the TDD gates "
    "refused work and what blocked. Only use the numbers given; be brief and concrete."
)


async def review_sprint(ctx: dict[str, Any], project_id: str, sprint_id: str) -> str:
    d = deps(ctx)
    sprint = await d.store.get(Sprint, keys.entity(project_id, "sprint", sprint_id))
    if sprint is None or sprint.review_summary:
        return "nothing to review"
    stories = await stories_by_id(d.store, project_id, sprint.story_ids)
    events = await _sprint_events(d, project_id, sprint.start_date)
    brief = build_review_brief(sprint, stories, events, as_of=utcnow())
    cost = 0.0
    try:
        text, cost = await _narrate(d, project_id, brief)
    except ProviderUnavailable as exc:
        if int(ctx.get("job_try", 1)) < MAX_TRIES:
            raise retry_later(ctx, exc) from exc
        log.warning("review_without_model", project_id=project_id, sprint_id=sprint_id)
        text = fallback_summary(brief)
    await _save(d, project_id, sprint_id, text, brief, cost)
    return "reviewed"


async def _sprint_events(
    d: WorkerDeps, project_id: str, since: datetime | None
) -> list[TimelineEvent]:
    """The sprint's workflow events (tool calls left out), oldest first, bounded."""
    after = f"{int(since.timestamp() * 1000) - 1}-0" if since else None
    kept: list[TimelineEvent] = []
    for _ in range(_MAX_EVENTS // _PAGE):
        page = await timeline.read(d.store.redis, project_id, after=after, limit=_PAGE)
        kept.extend(e for e in page if e.command != "tool")
        if len(page) < _PAGE:
            break
        after = page[-1].id
    return kept


async def _narrate(d: WorkerDeps, project_id: str, brief: ReviewBrief) -> tuple[str, float]:
    """The data agent's summary (the numbers' own when it says nothing), and its cost."""

    async def no_tools(name: str, raw: object) -> tuple[str, bool, dict[str, Any]]:
        return f"No tools in the review; {name} is not available.", True, {"tool": name}

    task = AgentTask(role=RoleName.DATA, project_id=project_id)
    run = await run_agent(
        d.client,
        model=d.settings.agents.claude_model,
        system=_SYSTEM,
        task=render_task(task, render_markdown(brief)),
        tools=[],
        run_tool=no_tools,
        max_turns=2,
        agent_type=RoleName.DATA.value,
    )
    return run.final_text.strip() or fallback_summary(brief), cost_of(run, d.settings.agents)


async def _save(
    d: WorkerDeps, project_id: str, sprint_id: str, text: str, brief: ReviewBrief, cost: float
) -> None:
    key = keys.entity(project_id, "sprint", sprint_id)

    async def body(tx: Transaction) -> None:
        sprint = await tx.get(Sprint, key)
        if sprint is None or sprint.review_summary:
            return
        tx.put(
            key,
            sprint.touched(
                review_summary=text[:20_000], review_metrics=brief.model_dump(mode="json")
            ),
        )
        event = TimelineEvent(
            actor="agent:data",
            command="sprint review",
            payload={"sprint_id": sprint_id, "summary": text[:2_000]},
        )
        timeline.append(tx, project_id, event)
        budgets.charge_agent_in(tx, project_id, RoleName.DATA.value, cost, sprint_id)

    await d.store.atomic(body)
