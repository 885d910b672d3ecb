"""Traces and metrics against the real app, real workers, real Redis and the scripted model."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from shared.observability.tracing import setup_tracing
from shared.platform.settings import Settings
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are found by name
    API,
    ApiClient,
    api_app_fixture,
    api_fixture,
    api_settings_fixture,
    command,
    expect,
    server_errors_fixture,
    tokens_fixture,
)
from tests.integration.worker_fixtures import (  # noqa: F401 - fixtures are found by name
    Pool,
    fake_model_fixture,
    running_workers,
    sample_repo_fixture,
    worker_settings_fixture,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

PID = "calc"
EPIC = {"description": "Basic arithmetic for the calculator: add and subtract"}


@pytest.fixture(name="spans")
def spans_fixture(settings: Settings) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    setup_tracing("test", settings, extra=SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()  # the processor stays on the process's provider, but stores nothing


async def test_one_epic_is_one_trace_from_the_request_to_the_model_call(
    api: ApiClient, worker_settings: Settings, sample_repo: Path, spans: InMemorySpanExporter
) -> None:
    expect(await api.post(f"{API}/projects", json={"repo_url": str(sample_repo), "id": PID}), 201)
    expect(await api.post(f"{API}/projects/{PID}/start"), 200)
    spans.clear()
    expect(await command(api, PID, "epic", EPIC), 201)
    async with running_workers(worker_settings, 1):
        await wait_for(spans, "chat ")

    request = one(spans, f"POST {API}/projects/{{project_id}}/commands")
    trace = [s for s in spans.get_finished_spans() if same_trace(s, request)]
    by_name = {s.name: s for s in trace}
    enqueue, job = by_name["enqueue propose_backlog"], by_name["job propose_backlog"]
    agent = by_name["agent backlog"]
    chat = next(s for s in trace if s.name.startswith("chat "))
    chain = [request, enqueue, job, agent, chat]  # each one inside the one before
    for outer, inner in itertools.pairwise(chain):
        assert outer.context is not None
        assert outer.context.span_id in ancestors(inner, trace), (outer.name, inner.name)
    assert chat.attributes is not None
    assert chat.attributes["gen_ai.system"] == "anthropic"
    assert int(str(chat.attributes["gen_ai.usage.input_tokens"])) > 0


async def test_an_error_body_names_the_trace_of_its_request(
    api: ApiClient, spans: InMemorySpanExporter
) -> None:
    body = expect(await command(api, "nope", "sprint start"), 404)
    request = one(spans, f"POST {API}/projects/{{project_id}}/commands")
    assert body["trace_id"] == format(request.context.trace_id, "032x")
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 404


async def test_a_callers_traceparent_is_continued(
    api: ApiClient, spans: InMemorySpanExporter
) -> None:
    trace_id, caller = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    headers = {"traceparent": f"00-{trace_id}-{caller}-01"}
    expect(await api.get(f"{API}/projects", headers=headers), 200)
    request = one(spans, f"GET {API}/projects")
    assert format(request.context.trace_id, "032x") == trace_id
    assert parent(request) == int(caller, 16)


async def test_metrics_carry_the_seed_names_and_move_with_commands(
    api: ApiClient, worker_settings: Settings, sample_repo: Path
) -> None:
    before = await scrape(api)
    expect(await api.post(f"{API}/projects", json={"repo_url": str(sample_repo), "id": PID}), 201)
    expect(await api.post(f"{API}/projects/{PID}/start"), 200)
    stories = [{"title": "Add two numbers"}, {"title": "Subtract two numbers"}]
    epic = expect(await command(api, PID, "epic", {"description": "Math", "stories": stories}), 201)
    ids = epic["result"]["proposed_story_ids"]
    expect(await command(api, PID, "approve", {"ids": ids}), 200)
    expect(await command(api, PID, "sprint plan", {"story_ids": ids}), 201)
    expect(await command(api, PID, "sprint start"), 200)

    after = await scrape(api)
    posted = (
        "http_requests_total",
        (("method", "POST"), ("route", f"{API}/projects"), ("status", "201")),
    )
    assert after[posted] == before.get(posted, 0) + 1
    assert after[("active_sprints_total", ())] == 1
    assert after[("arq_queue_depth", ())] >= 1  # the scheduler's job waits: no worker runs
    assert after[("gateway_lease_held", ())] == 0


async def test_requests_are_counted_by_route_template_never_by_raw_path(api: ApiClient) -> None:
    before = await scrape(api)
    expect(await api.post(f"{API}/projects", json={"repo_url": "/srv/a.git", "id": "alpha"}), 201)
    for path in (f"{API}/projects/alpha", f"{API}/projects/nope", "/no/such/page", "/x/y"):
        await api.get(path)
    after = await scrape(api)

    def moved(route: str, status: str) -> float:
        key = ("http_requests_total", (("method", "GET"), ("route", route), ("status", status)))
        return after.get(key, 0) - before.get(key, 0)

    assert moved(f"{API}/projects/{{project_id}}", "200") == 1
    assert moved(f"{API}/projects/{{project_id}}", "404") == 1
    assert moved("unmatched", "404") == 2
    assert not [k for k in after if "alpha" in str(k) or "/no/such" in str(k)]


async def scrape(api: ApiClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await api.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def wait_for(spans: InMemorySpanExporter, prefix: str, timeout_s: float = 60) -> None:
    import asyncio

    async with asyncio.timeout(timeout_s):
        while not any(s.name.startswith(prefix) for s in spans.get_finished_spans()):
            await asyncio.sleep(0.1)


def one(spans: InMemorySpanExporter, name: str) -> ReadableSpan:
    found = [s for s in spans.get_finished_spans() if s.name == name]
    assert len(found) == 1, [s.name for s in spans.get_finished_spans()]
    return found[0]


def same_trace(span: ReadableSpan, other: ReadableSpan) -> bool:
    return (
        span.context is not None
        and other.context is not None
        and (span.context.trace_id == other.context.trace_id)
    )


def ancestors(span: ReadableSpan, trace: list[ReadableSpan]) -> list[int]:
    by_id = {s.context.span_id: s for s in trace if s.context}
    found: list[int] = []
    while (up := parent(span)) is not None and up in by_id:
        found.append(up)
        span = by_id[up]
    return found


def parent(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent else None
