"""Pure ASGI middleware: one server span and the RED metrics per HTTP request."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import structlog
from opentelemetry import context, propagate, trace
from opentelemetry.context import Context

from shared.observability import metrics
from shared.observability.tracing import tracer

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ObservedMiddleware"]

_UNMATCHED = "unmatched"  # one label for every unknown path: no cardinality from scanners
_MAX_SERIES = 1_000
_SERIES: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


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

        # start_span + attach rather than start_as_current_span: the same span and context
        # without two generator-based context managers, a third of the span's cost per request
        span = tracer.start_span(method, context=_parent(scope), kind=trace.SpanKind.SERVER)
        attached = context.attach(trace.set_span_in_context(span))
        trace_id = format(span.get_span_context().trace_id, "032x")
        scope.setdefault("state", {})["trace_id"] = trace_id
        tokens = structlog.contextvars.bind_contextvars(trace_id=trace_id)
        failure: Exception | None = None
        try:
            await self.app(scope, receive, send_status)
        except Exception as exc:
            failure = exc
            raise
        finally:
            structlog.contextvars.reset_contextvars(**tokens)
            route = _route(scope)
            _finish(span, method, route, status, failure)
            span.end()
            context.detach(attached)
            counted, timed = _series(method, route, status)
            counted.inc()
            timed.observe(time.perf_counter() - started)


def _series(method: str, route: str, status: int) -> tuple[Counter, Histogram]:
    """The request counter and duration histogram of these labels; `labels()` takes a lock and
    builds its key on every call, so the pairs are kept (bounded: past the cap, not kept)."""
    key = (method, route, status)
    pair = _SERIES.get(key)
    if pair is None:
        pair = (
            metrics.HTTP_REQUESTS.labels(method, route, str(status)),
            metrics.HTTP_DURATION.labels(method, route),
        )
        if len(_SERIES) < _MAX_SERIES:
            _SERIES[key] = pair
    return pair


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


def _finish(
    span: trace.Span, method: str, route: str, status: int, failure: Exception | None
) -> None:
    span.update_name(f"{method} {route}")
    span.set_attribute("http.request.method", method)
    span.set_attribute("http.route", route)
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(trace.StatusCode.ERROR)
    if failure is not None and span.is_recording():  # as use_span records an escaping error
        span.record_exception(failure)
        span.set_status(trace.StatusCode.ERROR, f"{type(failure).__name__}: {failure}")
