"""The real anthropic SDK against the fake Messages API on loopback."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anthropic
import httpx
import pytest
from anthropic.types import ToolUseBlock

from shared.agents.roles import ROLES, RoleName
from shared.agents.task import render_task
from shared.agents.tool_specs import tool_params
from shared.fakes.anthropic_server import FakeAnthropicServer
from shared.fakes.conversation import SAMPLE_CALCULATOR, make_task
from shared.fakes.wire import MessagesRequest, ModelReply

MODEL = "claude-sonnet-4-6"  # 4-5 is deprecated in this SDK: a DeprecationWarning
TOOLS: Any = tool_params(ROLES[RoleName.DESIGN].tools)
TASK = render_task(make_task(RoleName.DESIGN), "Write the design note.")
HELLO: Any = [{"role": "user", "content": "Hello"}]


@pytest.fixture(scope="module")
def server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as running:
        yield running


@pytest.fixture
def fake(server: FakeAnthropicServer) -> Iterator[FakeAnthropicServer]:
    server.clear_faults()
    yield server
    server.clear_faults()


@pytest.fixture
async def client(fake: FakeAnthropicServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(
        base_url=fake.base_url, api_key="sk-test", max_retries=2, timeout=5.0
    ) as sdk:
        yield sdk


def _first_turn() -> Any:
    return [{"role": "user", "content": TASK}]


def _tool_result(message: Any, content: str) -> Any:
    use = next(b for b in message.content if isinstance(b, ToolUseBlock))
    return [
        *_first_turn(),
        {"role": "assistant", "content": [b.model_dump() for b in message.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": content}]},
    ]  # fmt: skip


async def test_a_tool_use_round_trip_without_streaming(client: anthropic.AsyncAnthropic) -> None:
    first = await client.messages.create(
        model=MODEL, max_tokens=2000, messages=_first_turn(), tools=TOOLS
    )
    assert first.id.startswith("msg_")
    assert first.stop_reason == "tool_use"
    use = first.content[-1]
    assert isinstance(use, ToolUseBlock)
    assert (use.name, use.input) == ("read_file", {"path": "calculator.py"})
    assert use.id.startswith("toolu_")
    assert first.usage.input_tokens > 100
    assert first.usage.output_tokens > 0
    second = await client.messages.create(
        model=MODEL, max_tokens=2000, messages=_tool_result(first, SAMPLE_CALCULATOR), tools=TOOLS
    )
    write = second.content[-1]
    assert isinstance(write, ToolUseBlock)
    assert write.input["path"] == "docs/design/S-1.md"
    assert "defines: identity" in str(write.input["content"])


async def test_streaming_rebuilds_the_same_message(client: anthropic.AsyncAnthropic) -> None:
    plain = await client.messages.create(
        model=MODEL, max_tokens=2000, messages=_first_turn(), tools=TOOLS
    )
    async with client.messages.stream(
        model=MODEL, max_tokens=2000, messages=_first_turn(), tools=TOOLS
    ) as stream:
        text = "".join([chunk async for chunk in stream.text_stream])
        streamed = await stream.get_final_message()
    assert text == plain.content[0].text  # type: ignore[union-attr]
    assert [b.model_dump(exclude={"parsed_output"}) for b in streamed.content] == [
        b.model_dump() for b in plain.content
    ]
    assert (streamed.stop_reason, streamed.usage.output_tokens) == (
        "tool_use",
        plain.usage.output_tokens,
    )


async def test_raw_stream_events_come_in_order(client: anthropic.AsyncAnthropic) -> None:
    stream = await client.messages.create(
        model=MODEL, max_tokens=2000, messages=_first_turn(), tools=TOOLS, stream=True
    )
    async with stream:
        kinds = [event.type async for event in stream]
    assert kinds[:3] == ["message_start", "content_block_start", "content_block_delta"]
    assert kinds[-2:] == ["message_delta", "message_stop"]


async def test_max_tokens_stops_the_reply(client: anthropic.AsyncAnthropic) -> None:
    reply = await client.messages.create(
        model=MODEL, max_tokens=5, messages=_first_turn(), tools=TOOLS
    )
    assert reply.stop_reason == "max_tokens"
    assert reply.usage.output_tokens == 5


async def test_without_a_key_the_answer_is_401(fake: FakeAnthropicServer) -> None:
    async with httpx.AsyncClient(base_url=fake.base_url) as http:
        response = await http.post("/v1/messages", json={})
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    assert response.json()["type"] == "error"


async def test_a_wrong_key_is_an_authentication_error() -> None:
    with FakeAnthropicServer(api_key="sk-right") as locked:
        async with anthropic.AsyncAnthropic(base_url=locked.base_url, api_key="sk-wrong") as sdk:
            with pytest.raises(anthropic.AuthenticationError):
                await sdk.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
        async with anthropic.AsyncAnthropic(base_url=locked.base_url, api_key="sk-right") as sdk:
            assert (await sdk.messages.create(model=MODEL, max_tokens=10, messages=HELLO)).content


async def test_bad_requests_are_400_invalid_request_error(
    client: anthropic.AsyncAnthropic, fake: FakeAnthropicServer
) -> None:
    with pytest.raises(anthropic.BadRequestError) as info:
        await client.messages.create(model=MODEL, max_tokens=0, messages=HELLO)
    assert info.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    assert "max_tokens" in info.value.message
    first = await client.messages.create(
        model=MODEL, max_tokens=2000, messages=_first_turn(), tools=TOOLS
    )
    unanswered = [*_first_turn(), {"role": "assistant", "content": first.content}, *HELLO]
    with pytest.raises(anthropic.BadRequestError, match="without `tool_result`"):
        await client.messages.create(model=MODEL, max_tokens=10, messages=unanswered)
    headers = {"x-api-key": "k", "content-type": "application/json"}
    async with httpx.AsyncClient(base_url=fake.base_url, headers=headers) as http:
        assert (await http.post("/v1/messages", content=b"{not json")).status_code == 400
        missing = await http.get("/v1/nothing")
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found_error"


async def test_429_with_retry_after_is_retried_then_succeeds(
    client: anthropic.AsyncAnthropic, fake: FakeAnthropicServer
) -> None:
    fake.inject("429", count=2, retry_after_s=0.05)
    calls = fake.stats()["calls"]
    started = time.monotonic()
    reply = await client.messages.create(model=MODEL, max_tokens=50, messages=HELLO)
    assert reply.stop_reason == "end_turn"
    assert 0.1 <= time.monotonic() - started < 2
    assert fake.stats()["calls"] == calls + 3


async def test_a_permanent_529_is_overloaded_after_the_sdks_retries(
    client: anthropic.AsyncAnthropic, fake: FakeAnthropicServer
) -> None:
    fake.inject("529", count=5, retry_after_s=0.01)
    with pytest.raises(anthropic.InternalServerError) as info:
        await client.with_options(max_retries=1).messages.create(
            model=MODEL, max_tokens=50, messages=HELLO
        )
    assert isinstance(info.value, anthropic.OverloadedError)
    assert info.value.response.headers["retry-after"] == "0.01"
    assert info.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
    assert len(fake.stats()["faults_pending"]) == 1  # 2 of 5 used: one try, one retry
    assert fake.stats()["faults_pending"][0]["count"] == 3


async def test_a_500_is_an_internal_server_error(
    client: anthropic.AsyncAnthropic, fake: FakeAnthropicServer
) -> None:
    fake.inject("500")
    with pytest.raises(anthropic.InternalServerError) as info:
        await client.with_options(max_retries=0).messages.create(
            model=MODEL, max_tokens=50, messages=HELLO
        )
    assert info.value.status_code == 500


async def test_a_slow_answer_times_out(
    client: anthropic.AsyncAnthropic, fake: FakeAnthropicServer
) -> None:
    fake.inject("slow", delay_s=3)
    started = time.monotonic()
    with pytest.raises(anthropic.APITimeoutError):
        await client.with_options(timeout=0.2, max_retries=0).messages.create(
            model=MODEL, max_tokens=50, messages=HELLO
        )
    assert time.monotonic() - started < 1.5


async def test_malformed_tool_input_is_invalid_json(
    client: anthropic.AsyncAnthropic, fake: FakeAnthropicServer
) -> None:
    fake.inject("malformed_tool_input", count=2)
    reply = await client.messages.create(
        model=MODEL, max_tokens=2000, messages=_first_turn(), tools=TOOLS
    )
    use = reply.content[-1]
    assert isinstance(use, ToolUseBlock)
    raw: object = use.input  # typed as a dict by the SDK, but not validated: here a string
    assert isinstance(raw, str)
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    with pytest.raises(ValueError, match="Unable to parse tool parameter JSON"):
        async with client.messages.stream(
            model=MODEL, max_tokens=2000, messages=_first_turn(), tools=TOOLS
        ) as stream:
            await stream.get_final_message()


async def test_the_control_plane_over_http(fake: FakeAnthropicServer) -> None:
    async with httpx.AsyncClient(base_url=fake.base_url, headers={"x-api-key": "k"}) as http:
        bad = await http.post("/_fake/faults", json={"kind": "418"})
        added = await http.post("/_fake/faults", json={"kind": "529", "count": 2})
        cleared = await http.delete("/_fake/faults")
        models = await http.get("/v1/models")
        stats = await http.get("/_fake/stats")
    assert bad.status_code == 400
    assert added.status_code == 201
    assert added.json()["pending"][0]["kind"] == "529"
    assert cleared.json() == {"pending": []}
    assert models.json()["data"][0]["type"] == "model"
    assert {"calls", "by_role", "by_status", "input_tokens", "output_tokens"} <= set(stats.json())


async def test_stats_count_calls_per_role_and_tokens(
    client: anthropic.AsyncAnthropic, fake: FakeAnthropicServer
) -> None:
    before = fake.stats()
    await client.messages.create(model=MODEL, max_tokens=2000, messages=_first_turn(), tools=TOOLS)
    after = fake.stats()
    assert after["by_role"]["design"] == before["by_role"].get("design", 0) + 1
    assert after["input_tokens"] > before["input_tokens"]
    assert after["output_tokens"] > before["output_tokens"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_the_module_runs_as_a_process() -> None:
    port = _free_port()
    command = [sys.executable, "-m", "shared.fakes.anthropic_server", "--port", str(port)]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as process:
        try:
            deadline = time.monotonic() + 15
            while True:
                try:
                    response = httpx.get(f"http://127.0.0.1:{port}/_fake/stats", timeout=1)
                    break
                except httpx.TransportError:
                    assert process.poll() is None, process.stderr
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
            assert response.json()["calls"] == 0
        finally:
            process.terminate()
            process.wait(timeout=10)


class _BrokenModel:
    def respond(self, request: MessagesRequest) -> ModelReply:
        raise RuntimeError("script bug")


async def test_a_failing_model_is_a_500_the_sdk_does_not_retry() -> None:
    with FakeAnthropicServer(_BrokenModel()) as broken:
        async with anthropic.AsyncAnthropic(base_url=broken.base_url, api_key="k") as sdk:
            with pytest.raises(anthropic.InternalServerError, match="script bug"):
                await sdk.messages.create(model=MODEL, max_tokens=10, messages=HELLO)
        assert broken.stats()["by_status"] == {"500": 1}
