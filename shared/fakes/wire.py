"""Wire shapes of the Messages API as the fake needs them: the request it validates, the reply
a model produces, and the error body.

The request models are as strict as the real API where a client bug would show (non-empty
content, every tool_use answered by a tool_result in the next user turn, first turn from the
user) and lenient elsewhere: unknown fields and block types pass, so newer SDK options work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, model_validator

__all__ = [
    "Block",
    "Message",
    "MessagesRequest",
    "Model",
    "ModelReply",
    "OtherBlock",
    "StopReason",
    "TextBlock",
    "TextOut",
    "ToolCallOut",
    "ToolDef",
    "ToolResultBlock",
    "ToolUseBlock",
    "error_body",
]

StopReason = Literal["end_turn", "tool_use", "max_tokens", "stop_sequence"]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow")


class TextBlock(_Lenient):
    type: Literal["text"]
    text: str = Field(min_length=1)


class ToolUseBlock(_Lenient):
    type: Literal["tool_use"]
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    input: dict[str, Any]


class OtherBlock(_Lenient):
    """image, document, thinking, …: accepted and ignored."""

    type: str


def _block_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in ("text", "tool_use", "tool_result") else "other"


_Inner = Annotated[
    Annotated[TextBlock, Tag("text")] | Annotated[OtherBlock, Tag("other")],
    Discriminator(lambda v: "text" if _block_tag(v) == "text" else "other"),
]


class ToolResultBlock(_Lenient):
    type: Literal["tool_result"]
    tool_use_id: str = Field(min_length=1)
    content: str | list[_Inner] = ""
    is_error: bool = False

    @property
    def text(self) -> str:
        if isinstance(self.content, str):
            return self.content
        return "\n".join(b.text for b in self.content if isinstance(b, TextBlock))


Block = Annotated[
    Annotated[TextBlock, Tag("text")]
    | Annotated[ToolUseBlock, Tag("tool_use")]
    | Annotated[ToolResultBlock, Tag("tool_result")]
    | Annotated[OtherBlock, Tag("other")],
    Discriminator(_block_tag),
]


class Message(_Lenient):
    role: Literal["user", "assistant"]
    content: str | list[Block]

    @property
    def blocks(self) -> list[TextBlock | ToolUseBlock | ToolResultBlock | OtherBlock]:
        if isinstance(self.content, str):
            return [TextBlock(type="text", text=self.content)] if self.content else []
        return list(self.content)

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in self.blocks if isinstance(b, TextBlock))


class ToolDef(_Lenient):
    name: str = Field(pattern=r"^[a-zA-Z0-9_-]{1,128}$")
    description: str | None = None
    input_schema: dict[str, Any]


class MessagesRequest(_Lenient):
    model: str = Field(min_length=1)
    max_tokens: int = Field(ge=1)
    messages: list[Message] = Field(min_length=1)
    system: str | list[TextBlock] | None = None
    tools: list[ToolDef] | None = None
    stream: bool = False
    temperature: float | None = Field(default=None, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _conversation_rules(self) -> MessagesRequest:
        _check_conversation(self.messages)
        return self

    @property
    def system_text(self) -> str:
        if self.system is None or isinstance(self.system, str):
            return self.system or ""
        return "\n".join(b.text for b in self.system)

    def tool_names(self) -> set[str]:
        return {t.name for t in self.tools or ()}


def _check_conversation(messages: list[Message]) -> None:
    if messages[0].role != "user":
        raise ValueError("messages: first message must use the user role")
    for i, message in enumerate(messages):
        if not message.blocks and not (i == len(messages) - 1 and message.role == "assistant"):
            raise ValueError(
                f"messages.{i}: all messages must have non-empty content except for the "
                "optional final assistant message"
            )
        if message.role == "assistant" and i + 1 < len(messages):
            _check_uses_answered(message, messages[i + 1], i + 1)
        _check_results_answer(messages, i)


def _check_uses_answered(assistant: Message, reply: Message, index: int) -> None:
    uses = {b.id for b in assistant.blocks if isinstance(b, ToolUseBlock)}
    answered = {b.tool_use_id for b in reply.blocks if isinstance(b, ToolResultBlock)}
    if uses - answered:
        raise ValueError(
            f"messages.{index}: `tool_use` ids were found without `tool_result` blocks "
            f"immediately after: {', '.join(sorted(uses - answered))}"
        )


def _check_results_answer(messages: list[Message], i: int) -> None:
    results = [b for b in messages[i].blocks if isinstance(b, ToolResultBlock)]
    if not results:
        return
    before = messages[i - 1].blocks if i > 0 and messages[i - 1].role == "assistant" else []
    uses = {b.id for b in before if isinstance(b, ToolUseBlock)}
    for block in results:
        if block.tool_use_id not in uses:
            raise ValueError(
                f"messages.{i}: unexpected `tool_use_id` found in `tool_result` blocks: "
                f"{block.tool_use_id}. Each `tool_result` block must have a corresponding "
                "`tool_use` block in the previous message."
            )


@dataclass(frozen=True)
class TextOut:
    text: str


@dataclass(frozen=True)
class ToolCallOut:
    id: str
    name: str
    input: dict[str, Any]


@dataclass(frozen=True)
class ModelReply:
    """What a model answers: content blocks in order and why it stopped."""

    content: tuple[TextOut | ToolCallOut, ...]
    stop_reason: StopReason

    @property
    def tool_calls(self) -> list[ToolCallOut]:
        return [b for b in self.content if isinstance(b, ToolCallOut)]


class Model(Protocol):
    """Anything that answers a validated request; the scripted model is one."""

    def respond(self, request: MessagesRequest) -> ModelReply: ...


def error_body(kind: str, message: str) -> dict[str, Any]:
    """Anthropic's error envelope, e.g. kind="rate_limit_error"."""
    return {"type": "error", "error": {"type": kind, "message": message}}
