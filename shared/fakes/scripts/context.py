"""What a script sees (the task, the tool calls so far and their results) and what it decides."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from shared.agents.task import AgentTask, StoryBrief, parse_task
from shared.fakes.scripts.markers import active_faults
from shared.fakes.wire import MessagesRequest, ToolResultBlock, ToolUseBlock

__all__ = [
    "MODULE",
    "ScriptContext",
    "Step",
    "ToolCall",
    "build_context",
    "call",
    "finish",
    "slug",
    "story_tests_name",
]

MODULE = "calculator.py"


@dataclass(frozen=True)
class ToolCall:
    """One tool_use of an earlier turn and the tool_result that answered it (None: unanswered)."""

    name: str
    input: dict[str, Any]
    result: str | None = None
    is_error: bool = False

    @property
    def ok(self) -> bool:
        return self.result is not None and not self.is_error

    def matches(self, name: str, fields: dict[str, Any]) -> bool:
        return self.name == name and all(self.input.get(k) == v for k, v in fields.items())


@dataclass(frozen=True)
class Step:
    """The next move: words, and a tool call unless the turn ends."""

    say: str
    tool: str | None = None
    input: dict[str, Any] = field(default_factory=dict)


def call(tool: str, say: str, **tool_input: Any) -> Step:
    return Step(say, tool, tool_input)


def finish(say: str) -> Step:
    return Step(say)


def slug(text: str) -> str:
    """A Python-identifier slug: "Add two numbers" -> "add_two_numbers"."""
    words = re.sub(r"\[[^\]]*\]", " ", text.lower())
    cleaned = "_".join(re.findall(r"[a-z0-9]+", words))[:40].strip("_")
    return cleaned if cleaned and not cleaned[0].isdigit() else f"story_{cleaned or 'x'}"


def story_tests_name(story: StoryBrief) -> str:
    """``test_<slug>.py`` for the story, never the sample repository's own test_calculator.py."""
    name = slug(story.title)
    return f"test_{name if name != 'calculator' else f'calculator_{slug(story.id)}'}.py"


@dataclass(frozen=True)
class ScriptContext:
    task: AgentTask
    calls: tuple[ToolCall, ...] = ()
    prompt: str = ""
    offered: frozenset[str] = frozenset()
    turn: int = 0
    faults: frozenset[str] = frozenset()

    @property
    def story(self) -> StoryBrief:
        if self.task.story is not None:
            return self.task.story
        return StoryBrief(id="S-0", title=self.task.epic_title or "untitled")

    @property
    def advice(self) -> str:
        """The human's hint and the gate's last refusal, as one text."""
        return " ".join(t for t in (self.task.hint, self.task.refusal) if t)

    @property
    def last(self) -> ToolCall | None:
        return self.calls[-1] if self.calls else None

    def calls_of(self, name: str, **fields: Any) -> list[ToolCall]:
        return [c for c in self.calls if c.matches(name, fields)]

    def done(self, name: str, **fields: Any) -> bool:
        return bool(self.calls_of(name, **fields))

    def last_of(self, name: str, **fields: Any) -> ToolCall | None:
        found = self.calls_of(name, **fields)
        return found[-1] if found else None


def _calls(request: MessagesRequest) -> list[ToolCall]:
    calls: dict[str, ToolCall] = {}
    for message in request.messages:
        for block in message.blocks:
            if isinstance(block, ToolUseBlock):
                calls[block.id] = ToolCall(block.name, dict(block.input))
            elif isinstance(block, ToolResultBlock) and block.tool_use_id in calls:
                pending = calls[block.tool_use_id]
                calls[block.tool_use_id] = ToolCall(
                    pending.name, pending.input, block.text, block.is_error
                )
    return list(calls.values())


def build_context(request: MessagesRequest) -> ScriptContext | None:
    """The context of a request whose first user message (or system prompt) carries a <task>;
    None without one."""
    prompt = request.messages[0].text
    task = parse_task(prompt) or parse_task(request.system_text)
    if task is None:
        return None
    return ScriptContext(
        task=task,
        calls=tuple(_calls(request)),
        prompt=prompt,
        offered=frozenset(request.tool_names()),
        turn=sum(1 for m in request.messages if m.role == "assistant"),
        faults=active_faults(task),
    )
