"""Turn a model's reply into the Messages API's JSON body or its SSE event stream.

Token counts are estimates (4 characters a token), close enough for budgets and dashboards.
"""

from __future__ import annotations

import json
import math
import secrets
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shared.fakes.wire import MessagesRequest, ModelReply, TextOut, ToolCallOut

__all__ = [
    "Rendered",
    "estimate_input_tokens",
    "make_id",
    "malformed_json",
    "render",
    "sse_events",
    "sse_frame",
]

_ALPHABET = string.ascii_letters + string.digits
_CHUNK = 24


def make_id(prefix: str) -> str:
    """An id shaped like Anthropic's, e.g. ``msg_01…`` or ``req_01…``."""
    return f"{prefix}_01" + "".join(secrets.choice(_ALPHABET) for _ in range(22))


def _tokens(chars: int) -> int:
    return max(1, math.ceil(chars / 4))


def estimate_input_tokens(request: MessagesRequest) -> int:
    """Characters of the system prompt, the messages and the tool definitions, over four."""
    tools = json.dumps([t.model_dump() for t in request.tools or ()])
    messages = json.dumps([m.model_dump() for m in request.messages])
    return _tokens(len(request.system_text) + len(messages) + len(tools))


@dataclass(frozen=True)
class Rendered:
    """A reply fitted to max_tokens, ready to send as a body or as events."""

    blocks: list[dict[str, Any]]
    stop_reason: str
    input_tokens: int
    output_tokens: int
    model: str
    id: str

    def message(self, *, content: bool = True, output_tokens: int | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": self.blocks if content else [],
            "stop_reason": self.stop_reason if content else None,
            "stop_sequence": None,
            "usage": {
                "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens if output_tokens is None else output_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "service_tier": "standard",
            },
        }


def _block_cost(block: TextOut | ToolCallOut) -> int:
    if isinstance(block, TextOut):
        return _tokens(len(block.text))
    return _tokens(len(block.name) + len(json.dumps(block.input)) + 20)


def _fit(reply: ModelReply, max_tokens: int) -> tuple[list[TextOut | ToolCallOut], str, int]:
    """Cut the reply at max_tokens like the real API: the last text block is truncated."""
    kept: list[TextOut | ToolCallOut] = []
    used = 0
    for block in reply.content:
        cost = _block_cost(block)
        if used + cost <= max_tokens:
            kept.append(block)
            used += cost
            continue
        room = max_tokens - used
        if isinstance(block, TextOut) and room > 0:
            kept.append(TextOut(block.text[: room * 4]))
            used = max_tokens
        return kept, "max_tokens", max(used, 1)
    return kept, reply.stop_reason, max(used, 1)


def malformed_json(value: dict[str, Any]) -> str:
    """JSON text that no parser accepts, even in partial mode: a doubled comma."""
    return json.dumps(value)[:-1] + ",,}"


def _wire_block(block: TextOut | ToolCallOut, malformed: bool) -> dict[str, Any]:
    if isinstance(block, TextOut):
        return {"type": "text", "text": block.text}
    tool_input: Any = malformed_json(block.input) if malformed else block.input
    return {"type": "tool_use", "id": block.id, "name": block.name, "input": tool_input}


def render(request: MessagesRequest, reply: ModelReply, *, malformed: bool = False) -> Rendered:
    """Fit the reply to the request's max_tokens and count usage.

    ``malformed`` replaces every tool input with invalid JSON text: as a string in a JSON body,
    as unparseable ``partial_json`` chunks in a stream.
    """
    blocks, stop_reason, output_tokens = _fit(reply, request.max_tokens)
    return Rendered(
        blocks=[_wire_block(b, malformed) for b in blocks],
        stop_reason=stop_reason,
        input_tokens=estimate_input_tokens(request),
        output_tokens=output_tokens,
        model=request.model,
        id=make_id("msg"),
    )


def sse_frame(event: dict[str, Any]) -> str:
    return f"event: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"


def _chunks(text: str) -> list[str]:
    return [text[i : i + _CHUNK] for i in range(0, len(text), _CHUNK)] or [""]


def _block_events(index: int, block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if block["type"] == "text":
        yield {
            "type": "content_block_start",
            "index": index,
            "content_block": {**block, "text": ""},
        }
        for piece in _chunks(block["text"]):
            delta = {"type": "text_delta", "text": piece}
            yield {"type": "content_block_delta", "index": index, "delta": delta}
    else:
        start = {**block, "input": {}}
        yield {"type": "content_block_start", "index": index, "content_block": start}
        raw = block["input"] if isinstance(block["input"], str) else json.dumps(block["input"])
        for piece in ["", *_chunks(raw)]:
            delta = {"type": "input_json_delta", "partial_json": piece}
            yield {"type": "content_block_delta", "index": index, "delta": delta}
    yield {"type": "content_block_stop", "index": index}


def sse_events(rendered: Rendered) -> Iterator[dict[str, Any]]:
    """The stream's events in the real API's order."""
    yield {"type": "message_start", "message": rendered.message(content=False, output_tokens=1)}
    yield {"type": "ping"}
    for index, block in enumerate(rendered.blocks):
        yield from _block_events(index, block)
    yield {
        "type": "message_delta",
        "delta": {"stop_reason": rendered.stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": rendered.output_tokens},
    }
    yield {"type": "message_stop"}
