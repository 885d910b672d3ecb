"""Drive the scripted model by hand, playing the tool layer: for tests of scripts and agents.

convo = Conversation(task)
first = convo.call()                 # the model's first tool call
second = convo.step("file text")     # answer it, get the next call
text = convo.end()                   # answer nothing more: the model must end its turn
"""

from __future__ import annotations

from typing import Any

from shared.agents.roles import ROLES, Phase, RoleName
from shared.agents.task import AgentTask, StoryBrief, render_task
from shared.agents.tool_specs import tool_params
from shared.fakes.scripted_model import ScriptedModel
from shared.fakes.wire import MessagesRequest, Model, ModelReply, TextOut, ToolCallOut

__all__ = ["SAMPLE_CALCULATOR", "Conversation", "make_task"]

SAMPLE_CALCULATOR = '"""A tiny calculator."""\n\n\ndef identity(x: int) -> int:\n    return x\n'
_PHASES = {
    RoleName.DESIGN: Phase.DESIGN,
    RoleName.QA: Phase.TEST_RED,
    RoleName.CODE: Phase.CODE_GREEN,
    RoleName.REFACTOR: Phase.REFACTOR,
}


def make_task(role: RoleName, title: str = "Add two numbers", **fields: Any) -> AgentTask:
    """A task for ``role`` on story S-1 of project p-1."""
    story = StoryBrief(id="S-1", title=title, acceptance_criteria=["it works"])
    return AgentTask(role=role, project_id="p-1", phase=_PHASES.get(role), story=story, **fields)


def _wire(block: TextOut | ToolCallOut) -> dict[str, Any]:
    if isinstance(block, TextOut):
        return {"type": "text", "text": block.text}
    return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}


class Conversation:
    """A conversation with a model (the scripted one by default) on one task."""

    def __init__(
        self,
        task: AgentTask,
        *,
        prompt: str = "Do your job.",
        tools: list[dict[str, Any]] | None = None,
        model: Model | None = None,
    ) -> None:
        self.model = model or ScriptedModel()
        self.tools = tool_params(ROLES[task.role].tools) if tools is None else tools
        self.messages: list[dict[str, Any]] = [
            {"role": "user", "content": render_task(task, prompt)}
        ]
        self.calls: list[ToolCallOut] = []

    def request(self) -> MessagesRequest:
        body = {"model": "m", "max_tokens": 4096, "messages": self.messages, "tools": self.tools}
        return MessagesRequest.model_validate(body)

    def ask(self) -> ModelReply:
        reply = self.model.respond(self.request())
        self.messages.append({"role": "assistant", "content": [_wire(b) for b in reply.content]})
        return reply

    def call(self) -> ToolCallOut:
        """The model's next tool call; RuntimeError if it ends its turn instead."""
        reply = self.ask()
        if reply.stop_reason != "tool_use":
            raise RuntimeError(f"expected a tool call, got {reply}")
        self.calls.append(reply.tool_calls[0])
        return reply.tool_calls[0]

    def answer(self, content: str, *, is_error: bool = False) -> None:
        """Append the tool_result of the last call."""
        result = {"type": "tool_result", "tool_use_id": self.calls[-1].id, "content": content}
        self.messages.append({"role": "user", "content": [{**result, "is_error": is_error}]})

    def step(self, content: str = "ok", *, is_error: bool = False) -> ToolCallOut:
        """Answer the last call, then return the next one."""
        self.answer(content, is_error=is_error)
        return self.call()

    def end(self) -> str:
        """The model's final text; RuntimeError if it calls a tool instead."""
        reply = self.ask()
        if reply.stop_reason != "end_turn" or not isinstance(reply.content[-1], TextOut):
            raise RuntimeError(f"expected the end of the turn, got {reply}")
        return reply.content[-1].text
