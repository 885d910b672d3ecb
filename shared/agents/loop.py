"""The tool-use loop: one conversation with Claude through the anthropic SDK.

Streams each turn, runs the tool calls the model asks for (every call checked by the tool
layer, never trusted), feeds the results back, and stops at `end_turn` or `max_turns`. Token
usage comes from the API's own `usage` numbers.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anthropic
from opentelemetry.trace import SpanKind

from shared.agents.tool_specs import TOOL_SPECS
from shared.observability import metrics
from shared.observability.tracing import tracer
from shared.platform.errors import AppError

if TYPE_CHECKING:
    from anthropic.types import Message

__all__ = ["AgentRun", "MalformedReply", "ProviderUnavailable", "ToolRunner", "run_agent"]

ToolRunner = Callable[[str, object], Awaitable[tuple[str, bool, dict[str, Any]]]]
_TRANSIENT = (
    anthropic.RateLimitError,
    anthropic.InternalServerError,
    anthropic.APIConnectionError,
    anthropic.APITimeoutError,
)


class ProviderUnavailable(AppError):
    """The model provider is rate limiting, overloaded or unreachable; retry later."""

    status_code = 503
    error_type = "provider_unavailable"


class MalformedReply(AppError):
    """The model's streamed reply could not be parsed (e.g. tool input that is not JSON)."""

    status_code = 502
    error_type = "malformed_model_reply"


_MAX_MALFORMED = 3


@dataclass
class AgentRun:
    agent_type: str = "agent"
    turns: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    stop_reason: str | None = None
    final_text: str = ""
    hit_max_turns: bool = False
    malformed_replies: int = 0
    tool_records: list[dict[str, Any]] = field(default_factory=list)
    structured: dict[str, Any] = field(default_factory=dict)


async def run_agent(
    client: anthropic.AsyncAnthropic,
    *,
    model: str,
    system: str,
    task: str,
    tools: list[dict[str, Any]],
    run_tool: ToolRunner,
    max_turns: int = 20,
    max_tokens: int = 4096,
    agent_type: str = "agent",
) -> AgentRun:
    """One agent's conversation, traced and timed as `agent_execution_seconds{agent_type}`."""
    run = AgentRun(agent_type=agent_type)
    started = time.perf_counter()
    with tracer.start_as_current_span(f"agent {agent_type}") as span:
        try:
            return await _converse(
                client, run, model, system, task, tools, run_tool, max_turns, max_tokens
            )
        finally:
            span.set_attribute("awf.agent.turns", run.turns)
            metrics.AGENT_EXECUTION.labels(agent_type).observe(time.perf_counter() - started)


async def _converse(
    client: anthropic.AsyncAnthropic,
    run: AgentRun,
    model: str,
    system: str,
    task: str,
    tools: list[dict[str, Any]],
    run_tool: ToolRunner,
    max_turns: int,
    max_tokens: int,
) -> AgentRun:
    messages: list[dict[str, Any]] = [{"role": "user", "content": task}]
    while run.turns < max_turns:
        run.turns += 1
        try:
            reply = await _traced_turn(client, run, model, system, messages, tools, max_tokens)
        except MalformedReply:
            run.malformed_replies += 1
            if run.malformed_replies >= _MAX_MALFORMED:
                raise
            continue  # the same request again: a garbled reply is not the conversation's fault
        run.input_tokens += reply.usage.input_tokens
        run.output_tokens += reply.usage.output_tokens
        run.stop_reason = reply.stop_reason
        messages.append({"role": "assistant", "content": [b.model_dump() for b in reply.content]})
        calls = [b for b in reply.content if b.type == "tool_use"]
        if not calls:
            run.final_text = "".join(b.text for b in reply.content if b.type == "text")
            return run
        messages.append({"role": "user", "content": [await _call(run, run_tool, c) for c in calls]})
    run.hit_max_turns = True
    return run


async def _traced_turn(
    client: anthropic.AsyncAnthropic,
    run: AgentRun,
    model: str,
    system: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    max_tokens: int,
) -> Message:
    """One model call as a `chat <model>` span (OpenTelemetry gen_ai conventions), counted."""
    with tracer.start_as_current_span(f"chat {model}", kind=SpanKind.CLIENT) as span:
        span.set_attribute("gen_ai.system", "anthropic")
        span.set_attribute("gen_ai.request.model", model)
        try:
            reply = await _turn(client, model, system, messages, tools, max_tokens)
        except Exception as exc:
            metrics.MODEL_CALLS.labels(type(exc).__name__).inc()
            raise
        metrics.MODEL_CALLS.labels("ok").inc()
        usage = reply.usage
        span.set_attribute("gen_ai.usage.input_tokens", usage.input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", usage.output_tokens)
        span.set_attribute("gen_ai.response.finish_reasons", [str(reply.stop_reason)])
        metrics.AGENT_TOKENS.labels(run.agent_type, "input").inc(usage.input_tokens)
        metrics.AGENT_TOKENS.labels(run.agent_type, "output").inc(usage.output_tokens)
        return reply


async def _turn(
    client: anthropic.AsyncAnthropic,
    model: str,
    system: str,
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]],
    max_tokens: int,
) -> Message:
    try:
        async with client.messages.stream(
            model=model,
            system=system,
            messages=messages,  # type: ignore[arg-type]
            tools=tools or anthropic.omit,  # type: ignore[arg-type]
            max_tokens=max_tokens,
        ) as stream:
            return await stream.get_final_message()
    except _TRANSIENT as exc:
        raise ProviderUnavailable(
            f"Model provider unavailable: {type(exc).__name__}", retry_after_s=_retry_after(exc)
        ) from exc
    except ValueError as exc:  # the SDK's stream accumulator cannot parse partial tool JSON
        raise MalformedReply(f"The model's reply could not be parsed: {exc}"[:500]) from exc


async def _call(run: AgentRun, run_tool: ToolRunner, call: Any) -> dict[str, Any]:
    content, is_error, record = await run_tool(call.name, call.input)
    run.tool_records.append(record)
    if not is_error and call.name in _STRUCTURED and isinstance(call.input, dict):
        run.structured[call.name] = call.input
    return {"type": "tool_result", "tool_use_id": call.id, "content": content, "is_error": is_error}


_STRUCTURED = frozenset({"propose_stories", "set_acceptance_criteria"} & set(TOOL_SPECS))


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    header = response.headers.get("retry-after") if response is not None else None
    try:
        return float(header) if header else None
    except ValueError:
        return None
