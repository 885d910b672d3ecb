"""OpenTelemetry traces: API request or Discord interaction → Redis → arq job → model call.

Every service installs an SDK tracer provider, so trace ids exist for error bodies and Discord
replies even with no collector; spans are exported only when `monitoring.otlp_endpoint` is set.
A job carries its caller's context in its kwargs (`TRACE_KWARG`, W3C traceparent).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from opentelemetry import context, propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import (
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
    TraceIdRatioBased,
)
from opentelemetry.trace import TraceState
from opentelemetry.util.types import Attributes

if TYPE_CHECKING:
    from shared.platform.settings import Settings

__all__ = [
    "TRACE_KWARG",
    "carrier",
    "current_trace_id",
    "job_context",
    "setup_tracing",
    "start_server_span",
    "tracer",
]

TRACE_KWARG = "trace_context"
LINK_ONLY = "awf-link-only"
_IN_JOB: ContextVar[bool] = ContextVar("awf_in_job", default=False)

tracer = trace.get_tracer("awf")


class _RecordWhenExporting(Sampler):
    """Until spans have somewhere to go, none is recorded: they still carry trace ids (for
    error bodies, logs and job kwargs) but cost a fraction of a recorded span. Once an exporter
    or another processor is attached, spans are sampled by `inner`."""

    def __init__(self) -> None:
        self.inner: Sampler | None = None

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: trace.SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[trace.Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        if self.inner is None:
            return SamplingResult(Decision.DROP)
        return self.inner.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return f"RecordWhenExporting({self.inner.get_description() if self.inner else 'off'})"


_SAMPLER = _RecordWhenExporting()
_IDS = RandomIdGenerator()


def start_server_span(name: str, traceparent: str = "") -> trace.Span:
    """The span of an incoming request, continuing the caller's `traceparent` when it is valid.

    While nothing records spans, the span the SDK would make (fresh or inherited trace id, a
    new span id, not sampled) is made directly: the sampler call and span bookkeeping would
    cost every API request about a tenth of the bare framework's work for nothing.
    """
    parent = propagate.extract({"traceparent": traceparent}) if traceparent else None
    if _SAMPLER.inner is not None:
        return tracer.start_span(name, context=parent, kind=trace.SpanKind.SERVER)
    inherited = trace.get_current_span(parent).get_span_context()
    trace_id = inherited.trace_id if inherited.is_valid else _IDS.generate_trace_id()
    own = trace.SpanContext(
        trace_id,
        _IDS.generate_span_id(),
        is_remote=False,
        trace_flags=trace.TraceFlags(trace.TraceFlags.DEFAULT),
        trace_state=inherited.trace_state if inherited.is_valid else None,
    )
    return trace.NonRecordingSpan(own)


def setup_tracing(
    service: str, settings: Settings, extra: SpanProcessor | None = None
) -> TracerProvider:
    """Install this process's tracer provider (once; later calls only add `extra`)."""
    current = trace.get_tracer_provider()
    provider = current if isinstance(current, TracerProvider) else _new_provider(service)
    endpoint = settings.monitoring.otlp_endpoint
    if endpoint and provider is not current:
        provider.add_span_processor(BatchSpanProcessor(_otlp_exporter(endpoint)))
        _record(settings)
    if extra is not None:
        provider.add_span_processor(extra)
        _record(settings)
    if provider is not current:
        trace.set_tracer_provider(provider)
    return provider


def _record(settings: Settings) -> None:
    _SAMPLER.inner = ParentBased(TraceIdRatioBased(settings.monitoring.trace_sample_ratio))


def _new_provider(service: str) -> TracerProvider:
    resource = Resource.create({"service.name": f"awf-{service}"})
    return TracerProvider(resource=resource, sampler=_SAMPLER)


def _otlp_exporter(endpoint: str) -> Any:
    # imported only when exporting: it pulls protobuf and requests into the process
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint)


def current_trace_id() -> str | None:
    """The active span's trace id as 32 hex digits, or None outside a recorded trace."""
    ctx = trace.get_current_span().get_span_context()
    return format(ctx.trace_id, "032x") if ctx.is_valid else None


def carrier() -> dict[str, str]:
    """The current context as W3C headers, for a job's kwargs. A job enqueued by another job
    is marked so it starts a trace of its own, linked to its cause: a sprint's chain of phase
    jobs would otherwise grow one trace without end."""
    headers: dict[str, str] = {}
    propagate.inject(headers)
    if headers and _IN_JOB.get():
        headers[LINK_ONLY] = "1"
    return headers


@contextmanager
def job_context(headers: Mapping[str, str] | None) -> Iterator[list[trace.Link]]:
    """Inside a job: `headers` (from `carrier`) become the parent of its spans, or, for a job
    enqueued by a job, a link; yields the links to give the job's span."""
    token = _IN_JOB.set(True)
    try:
        if not headers:
            yield []
            return
        ctx = propagate.extract(dict(headers))
        if LINK_ONLY in headers:
            yield [trace.Link(trace.get_current_span(ctx).get_span_context())]
            return
        attached = context.attach(ctx)
        try:
            yield []
        finally:
            context.detach(attached)
    finally:
        _IN_JOB.reset(token)
