"""HTTP routes of the fake: the Messages API, a minimal models list, and the /_fake control plane."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError

from shared.agents.task import parse_task
from shared.fakes.fake_state import FakeState, Fault, FaultKind
from shared.fakes.rendering import Rendered, make_id, render, sse_events, sse_frame
from shared.fakes.wire import MessagesRequest, Model, error_body

__all__ = ["control_router", "error_response", "messages_router"]

_log = logging.getLogger(__name__)
messages_router = APIRouter()
control_router = APIRouter(prefix="/_fake")

_FAULT_ERRORS = {
    FaultKind.RATE_LIMITED: (
        429,
        "rate_limit_error",
        "Number of request tokens has exceeded your rate limit.",
    ),
    FaultKind.OVERLOADED: (529, "overloaded_error", "Overloaded"),
    FaultKind.SERVER_ERROR: (500, "api_error", "Internal server error"),
}
_MODELS = ("claude-sonnet-4-6", "claude-opus-4-7", "claude-haiku-4-5")


def error_response(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    request_id = make_id("req")
    body = {**error_body(kind, message), "request_id": request_id}
    return JSONResponse(body, status, headers={"request-id": request_id, **(headers or {})})


def _state(request: Request) -> FakeState:
    state: FakeState = request.app.state.fake
    return state


def _auth_error(request: Request) -> JSONResponse | None:
    bearer = request.headers.get("authorization", "")
    key = request.headers.get("x-api-key") or bearer.removeprefix("Bearer ").strip()
    if not key:
        return error_response(401, "authentication_error", "x-api-key header is required")
    expected: str | None = request.app.state.api_key
    if expected is not None and key != expected:
        return error_response(401, "authentication_error", "invalid x-api-key")
    return None


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _role_of(body: MessagesRequest) -> str:
    try:
        task = parse_task(body.messages[0].text) or parse_task(body.system_text)
    except ValueError:
        return "unknown"
    return task.role.value if task else "none"


async def _sleep_unless_gone(request: Request, seconds: float) -> bool:
    """Sleep; False as soon as the client has hung up (it timed out), True otherwise."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        await asyncio.sleep(min(left, 0.05))
        if await request.is_disconnected():
            return False
    return True


def _fault_response(fault: Fault) -> JSONResponse | None:
    if fault.kind not in _FAULT_ERRORS:
        return None
    status, kind, message = _FAULT_ERRORS[fault.kind]
    headers = {}
    if status in (429, 529):
        headers["retry-after"] = format(fault.retry_after_s, "g")
    return error_response(status, kind, message, headers)


async def _stream(rendered: Rendered) -> AsyncIterator[str]:
    for event in sse_events(rendered):
        yield sse_frame(event)
        await asyncio.sleep(0)


@messages_router.post("/v1/messages")
async def create_message(request: Request) -> Response:
    state = _state(request)
    if (denied := _auth_error(request)) is not None:
        state.record("unauthenticated", 401)
        return denied
    body = await _parse(request)
    role = _role_of(body) if isinstance(body, MessagesRequest) else "invalid"
    fault = state.take_fault()
    if (early := await _apply_fault(request, fault)) is not None:
        state.record(role, early.status_code)
        return early
    if isinstance(body, ValidationError):
        state.record(role, 400)
        return error_response(400, "invalid_request_error", _describe(body))
    malformed = fault is not None and fault.kind is FaultKind.MALFORMED_TOOL_INPUT
    return _answer(request, body, role, malformed=malformed)


async def _parse(request: Request) -> MessagesRequest | ValidationError:
    try:
        return MessagesRequest.model_validate_json(await request.body())
    except ValidationError as error:
        return error


async def _apply_fault(request: Request, fault: Fault | None) -> Response | None:
    """The error a fault answers with, or None when the call goes on (late, or malformed)."""
    if fault is None:
        return None
    if fault.kind is FaultKind.SLOW:
        gone = not await _sleep_unless_gone(request, fault.delay_s)
        return Response(status_code=499) if gone else None
    return _fault_response(fault)


def _answer(request: Request, body: MessagesRequest, role: str, *, malformed: bool) -> Response:
    model: Model = request.app.state.model
    try:
        reply = model.respond(body)
    except Exception as error:  # a bug in a script: say so, and tell the SDK not to retry
        _log.exception("the fake's model failed")
        _state(request).record(role, 500)
        message = f"the fake's model failed: {type(error).__name__}: {error}"
        return error_response(500, "api_error", message, {"x-should-retry": "false"})
    rendered = render(body, reply, malformed=malformed)
    tokens = (rendered.input_tokens, rendered.output_tokens)
    _state(request).record(role, 200, tokens, streamed=body.stream)
    headers = {"request-id": make_id("req")}
    if body.stream:
        headers["cache-control"] = "no-cache"
        return StreamingResponse(_stream(rendered), media_type="text/event-stream", headers=headers)
    return JSONResponse(rendered.message(), headers=headers)


@messages_router.get("/v1/models")
async def list_models(request: Request) -> Response:
    if (denied := _auth_error(request)) is not None:
        return denied
    data = [
        {"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
        for m in _MODELS
    ]
    return JSONResponse(
        {"data": data, "has_more": False, "first_id": _MODELS[0], "last_id": _MODELS[-1]}
    )


@control_router.post("/faults")
async def add_fault(request: Request) -> Response:
    try:
        fault = Fault.model_validate_json(await request.body())
    except ValidationError as error:
        return error_response(400, "invalid_request_error", _describe(error))
    _state(request).add_fault(fault)
    return JSONResponse(_pending(request), status_code=201)


@control_router.delete("/faults")
async def clear_faults(request: Request) -> Response:
    _state(request).clear_faults()
    return JSONResponse(_pending(request))


@control_router.get("/stats")
async def stats(request: Request) -> dict[str, Any]:
    return _state(request).stats()


def _pending(request: Request) -> dict[str, Any]:
    return {"pending": _state(request).stats()["faults_pending"]}
