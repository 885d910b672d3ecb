"""Pure ASGI middleware: one server span and the RED metrics per HTTP request."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import structlog
from opentelemetry import propagate, trace
from opentelemetry.context import Context

from shared.observability import metrics
from shared.observability.tracing import tracer

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ObservedMiddleware"]

_UNMATCHED = "unmatched"  # one label for every unknown path: no cardinality from scanners


class ObservedMiddleware:
    """Traces each request (continuing a caller's `traceparent`), exposes its trace id to error
    bodies and logs, and counts it by method, route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, status = scope["method"], 500
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with tracer.start_as_current_span(
            method, context=_parent(scope), kind=trace.SpanKind.SERVER
        ) as span:
            trace_id = format(span.get_span_context().trace_id, "032x")
            scope.setdefault("state", {})["trace_id"] = trace_id
            tokens = structlog.contextvars.bind_contextvars(trace_id=trace_id)
            try:
                await self.app(scope, receive, send_status)
            finally:
                structlog.contextvars.reset_contextvars(**tokens)
                route = _route(scope)
                _finish(span, method, route, status)
                metrics.HTTP_REQUESTS.labels(method, route, str(status)).inc()
                metrics.HTTP_DURATION.labels(method, route).observe(time.perf_counter() - started)


def _parent(scope: Scope) -> Context | None:
    for name, value in scope["headers"]:
        if name == b"traceparent":
            return propagate.extract({"traceparent": value.decode("latin-1")})
    return None


def _route(scope: Scope) -> str:
    """The matched route's template, e.g. `/api/v1/projects/{project_id}`: the path with each
    path parameter's value put back as its name (FastAPI's own route objects may lack the
    prefix they were included under)."""
    if "route" not in scope:
        return _UNMATCHED
    params = scope.get("path_params") or {}
    if not params:
        return str(scope["path"])
    names = {str(value): f"{{{name}}}" for name, value in params.items()}
    return "/".join(names.get(part, part) for part in str(scope["path"]).split("/"))


def _finish(span: trace.Span, method: str, route: str, status: int) -> None:
    span.update_name(f"{method} {route}")
    span.set_attribute("http.request.method", method)
    span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(trace.StatusCode.ERROR)
