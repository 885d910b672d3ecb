"""Spans are recorded only once they have somewhere to go, yet always carry a trace id."""

from __future__ import annotations

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from shared.observability.tracing import _RecordWhenExporting


def provider_with(sampler: _RecordWhenExporting) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def test_with_nowhere_to_go_spans_are_dropped_but_keep_their_trace_ids() -> None:
    provider, exporter = provider_with(_RecordWhenExporting())
    with provider.get_tracer("t").start_as_current_span("request") as span:
        context = span.get_span_context()
        assert not span.is_recording()
    assert context.is_valid
    assert context.trace_id != 0
    assert exporter.get_finished_spans() == ()


def test_once_exporting_spans_follow_the_ratio() -> None:
    sampler = _RecordWhenExporting()
    provider, exporter = provider_with(sampler)
    sampler.inner = ParentBased(TraceIdRatioBased(1.0))
    with provider.get_tracer("t").start_as_current_span("kept"):
        pass
    sampler.inner = ParentBased(TraceIdRatioBased(0.0))
    with provider.get_tracer("t").start_as_current_span("dropped"):
        pass
    assert [s.name for s in exporter.get_finished_spans()] == ["kept"]
