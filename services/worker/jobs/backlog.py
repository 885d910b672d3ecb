"""propose_backlog: the backlog agent turns an epic into proposed stories."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from services.worker.deps import deps
from services.worker.pricing import cost_of
from services.worker.retrying import retry_later
from shared.agents.loop import ProviderUnavailable, run_agent
from shared.agents.roles import ROLES, RoleName
from shared.agents.task import AgentTask, render_task
from shared.agents.tool_specs import ToolName, tool_params
from shared.agents.tools import ToolContext, execute_tool
from shared.domain.args import ProposedStory
from shared.domain.models import Epic, Project
from shared.state import keys
from shared.workflow.proposals import add_proposals

__all__ = ["propose_backlog"]

_SYSTEM = (
    "You are the backlog agent of a Scrum team. Read the repository, then call "
    "propose_stories once with small, independently testable user stories that together "
    "deliver the epic, each with concrete acceptance criteria."
)


async def propose_backlog(ctx: dict[str, Any], project_id: str, epic_id: str) -> int:
    d = deps(ctx)
    project = await d.store.get(Project, keys.project(project_id))
    epic = await d.store.get(Epic, keys.entity(project_id, "epic", epic_id))
    if project is None or epic is None or epic.proposed_story_ids:
        return 0
    task = AgentTask(
        role=RoleName.BACKLOG,
        project_id=project_id,
        epic_title=epic.title,
        epic_description=epic.description,
    )
    branch = f"awf/backlog-{epic_id}"
    async with d.mirrors.workspace(project.repo_url, branch, project.default_branch) as ws:
        tool_ctx = ToolContext(
            root=ws.root, role=ROLES[RoleName.BACKLOG], test_command=project.test_command
        )

        async def run_tool(name: str, raw: object) -> tuple[str, bool, dict[str, Any]]:
            result = await execute_tool(tool_ctx, name, raw)
            return result.content, result.is_error, result.record

        try:
            run = await run_agent(
                d.client,
                model=d.settings.agents.claude_model,
                system=_SYSTEM,
                task=render_task(task, f"Epic: {epic.title}\n\n{epic.description}"),
                tools=tool_params(ROLES[RoleName.BACKLOG].tools),
                run_tool=run_tool,
                max_turns=d.settings.agents.max_turns,
                agent_type=RoleName.BACKLOG.value,
            )
        except ProviderUnavailable as exc:
            raise retry_later(ctx, exc) from exc
    stories = _stories(run.structured.get(ToolName.PROPOSE_STORIES, {}))
    cost = cost_of(run, d.settings.agents)
    return len(await add_proposals(d.store, project_id, epic_id, stories, cost)) if stories else 0


def _stories(raw: dict[str, Any]) -> list[ProposedStory]:
    out = []
    for item in raw.get("stories", []):
        try:
            out.append(ProposedStory.model_validate(item))
        except ValidationError:
            continue  # a malformed proposal is dropped; the rest still reach the human
    return out
