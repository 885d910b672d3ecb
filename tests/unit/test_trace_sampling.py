"""Spans are recorded only once they have somewhere to go, yet always carry a trace id."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from shared.observability import tracing
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


def test_an_unrecorded_server_span_is_fresh_or_continues_its_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tracing._SAMPLER, "inner", None)  # as in a process with no exporter
    first, second = (tracing.start_server_span("GET").get_span_context() for _ in range(2))
    assert not tracing.start_server_span("GET").is_recording()
    assert first.is_valid
    assert second.is_valid
    assert first.trace_id != second.trace_id
    assert first.span_id != second.span_id
    assert not first.trace_flags.sampled

    trace_id, caller = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    continued = tracing.start_server_span("GET", f"00-{trace_id}-{caller}-01").get_span_context()
    assert format(continued.trace_id, "032x") == trace_id
    assert continued.span_id not in (0, int(caller, 16))

    garbled = tracing.start_server_span("GET", "00-not-a-traceparent").get_span_context()
    assert garbled.is_valid
    assert format(garbled.trace_id, "032x") != trace_id
