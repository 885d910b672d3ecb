"""What the edge middleware records of an HTTP request: its span's name and attributes, and
the RED metrics by method, route template and status."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opentelemetry import trace
from starlette.routing import Route

from shared.observability import metrics

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram
    from starlette.types import Scope

__all__ = ["count_request", "finish_span", "route_template"]

_UNMATCHED = "unmatched"  # one label for every unknown path: no cardinality from scanners
_MAX_SERIES = 1_000
_SERIES: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}


def count_request(method: str, route: str, status: int, seconds: float) -> None:
    counted, timed = _series(method, route, status)
    counted.inc()
    timed.observe(seconds)


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


def route_template(scope: Scope) -> str:
    """The matched route's template, e.g. `/api/v1/projects/{project_id}`: the path with each
    path parameter's value put back as its name (FastAPI's own route objects may lack the
    prefix they were included under)."""
    route = scope.get("route")
    if route is None:
        return _UNMATCHED
    params = scope.get("path_params") or {}
    if not params:
        return str(scope["path"])
    if isinstance(route, Route) and route.path_regex.match(scope["path"]):
        return route.path_format  # a route of the app's own router: its path is the whole path
    names = {str(value): f"{{{name}}}" for name, value in params.items()}
    return "/".join(names.get(part, part) for part in str(scope["path"]).split("/"))


def finish_span(
    span: trace.Span, method: str, route: str, status: int, failure: Exception | None
) -> None:
    """Names and ends the request's span; a span nobody records is only ended."""
    if span.is_recording():
        span.update_name(f"{method} {route}")
        span.set_attribute("http.request.method", method)
        span.set_attribute("http.route", route)
        span.set_attribute("http.response.status_code", status)
        if status >= 500:
            span.set_status(trace.StatusCode.ERROR)
        if failure is not None:  # as use_span records an escaping error
            span.record_exception(failure)
            span.set_status(trace.StatusCode.ERROR, f"{type(failure).__name__}: {failure}")
    span.end()
