"""What an agent is asked to do, rendered into its first message.

The JSON between `<task>` tags is for machines (the scripted model reads it); the prose after it
is for the model. A real Claude model sees both and needs neither parsed.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, Field

from shared.agents.roles import Phase, RoleName

__all__ = ["AgentTask", "StoryBrief", "parse_task", "render_task"]

_TASK = re.compile(r"<task>\s*(\{.*?\})\s*</task>", re.DOTALL)


class StoryBrief(BaseModel):
    id: str
    title: str
    description: str = ""
    acceptance_criteria: list[str] = Field(default_factory=list)


class AgentTask(BaseModel):
    role: RoleName
    project_id: str
    phase: Phase | None = None
    story: StoryBrief | None = None
    epic_title: str | None = None
    epic_description: str | None = None
    attempt: int = 1
    hint: str | None = Field(default=None, description="A human's /suggest_fix")
    refusal: str | None = Field(default=None, description="Why the last attempt's gate refused")
    design_note_path: str | None = None
    red_test_ids: list[str] = Field(default_factory=list, description="Tests that must pass now")


def render_task(task: AgentTask, instructions: str) -> str:
    return f"<task>{task.model_dump_json(exclude_none=True)}</task>\n\n{instructions}"


def parse_task(text: str) -> AgentTask | None:
    match = _TASK.search(text)
    return AgentTask.model_validate_json(match.group(1)) if match else None
