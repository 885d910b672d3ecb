"""Many clients at once through the HTTP API: no lost update, no double apply, no 5xx."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis
from starlette.types import ASGIApp

from services.api.app import create_app
from shared.platform.settings import Settings
from shared.state import idempotency, keys
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are found by name
    API,
    ApiClient,
    Tokens,
    api_app_fixture,
    api_fixture,
    api_settings_fixture,
    expect,
    register,
    server_errors_fixture,
    tokens_fixture,
)

pytestmark = pytest.mark.integration

PID = "busy"
P = f"{API}/projects/{PID}"
TWINS = 5
Request = Callable[[httpx.AsyncClient], Awaitable[httpx.Response]]


@asynccontextmanager
async def clients(
    app: ASGIApp, tokens: Tokens, count: int, role: str = "member"
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """`count` independent clients of the app, each its own user."""
    async with AsyncExitStack() as stack:
        made = []
        for n in range(count):
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app, raise_app_exceptions=False),
                base_url="http://api",
                headers=tokens.auth(role, subject=f"user-{n}"),
                timeout=60,
            )
            made.append(await stack.enter_async_context(client))
        yield made


async def all_at_once(
    app: ASGIApp, tokens: Tokens, count: int, request: Request, role: str = "member"
) -> list[httpx.Response]:
    """`request` from `count` clients released together by a barrier."""
    barrier = asyncio.Barrier(count)

    async def one(client: httpx.AsyncClient) -> httpx.Response:
        await barrier.wait()
        return await request(client)

    async with clients(app, tokens, count, role) as made:
        return await asyncio.gather(*(one(c) for c in made))


def statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(r.status_code for r in responses)


def no_server_errors(responses: list[httpx.Response], api: ApiClient) -> None:
    failed = [r.text for r in responses if r.status_code >= 500]
    assert not failed, (failed[:3], api.errors.describe())


async def all_stories(api: ApiClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"status": "all", "limit": 100}
        if cursor is not None:
            params["cursor"] = cursor
        page = expect(await api.get(f"{P}/stories", params=params), 200)
        found += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return found


async def timeline(api: ApiClient) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = expect(
        await api.get(f"{P}/timeline", params={"limit": 1000}), 200
    )["events"]
    return events


async def test_50_clients_adding_5_stories_each_lose_nothing(
    api: ApiClient, api_app: ASGIApp, tokens: Tokens
) -> None:
    await register(api, PID, start=False)
    barrier = asyncio.Barrier(50)

    async def five(client: httpx.AsyncClient, n: int) -> list[httpx.Response]:
        await barrier.wait()
        return [
            await client.post(f"{P}/stories", json={"title": f"client {n} story {k}"})
            for k in range(5)
        ]

    async with clients(api_app, tokens, 50) as made:
        batches = await asyncio.gather(*(five(c, n) for n, c in enumerate(made)))
    responses = [r for batch in batches for r in batch]
    no_server_errors(responses, api)
    assert statuses(responses) == {201: 250}
    versions = sorted(r.json()["project_version"] for r in responses)
    assert versions == list(range(2, 252)), "every write got its own project version"

    stories = await all_stories(api)
    assert len(stories) == 250
    titles = {s["title"] for s in stories}
    assert titles == {f"client {n} story {k}" for n in range(50) for k in range(5)}
    assert {s["id"] for s in stories} == {r.json()["result"]["story_id"] for r in responses}
    project = await api.get(P)
    assert expect(project, 200)["version"] == 1 + 250
    assert project.headers["ETag"] == '"251"'
    backlog = expect(await api.get(f"{P}/stories", params={"limit": 1}), 200)
    assert backlog["total"] == 250
    events = await timeline(api)
    assert Counter(e["command"] for e in events) == {
        "project register": 1,
        "backlog add_story": 250,
    }
    assert {e["actor"] for e in events[1:]} == {f"user-{n}" for n in range(50)}


async def test_20_replays_of_one_idempotency_key_apply_once(
    api: ApiClient, api_app: ASGIApp, tokens: Tokens
) -> None:
    await register(api, PID, start=False)
    key = {"Idempotency-Key": "3f1c7a9e-one-story"}

    async def post(client: httpx.AsyncClient) -> httpx.Response:
        return await client.post(f"{P}/stories", json={"title": "exactly once"}, headers=key)

    responses = await all_at_once(api_app, tokens, 20, post)
    no_server_errors(responses, api)
    assert statuses(responses) == {201: 20}
    assert Counter(r.headers["Idempotent-Replayed"] for r in responses) == {"true": 19, "false": 1}
    assert len({r.content for r in responses}) == 1, "every replay returns the first body"
    assert {r.headers["ETag"] for r in responses} == {'"2"'}
    assert [s["title"] for s in await all_stories(api)] == ["exactly once"]
    assert expect(await api.get(P), 200)["version"] == 2
    assert [e["command"] for e in await timeline(api)] == ["project register", "backlog add_story"]


async def pending_approvals(api: ApiClient, *titles: str) -> list[str]:
    epic = {"description": "d", "stories": [{"title": t} for t in titles]}
    expect(await api.post(f"{P}/epics", json=epic), 201)
    return [a["id"] for a in expect(await api.get(f"{P}/approvals"), 200)["items"]]


async def test_20_concurrent_approvals_of_one_story_decide_once(
    api: ApiClient, api_app: ASGIApp, tokens: Tokens
) -> None:
    await register(api, PID)
    keyed, unkeyed = await pending_approvals(api, "with key", "without key")

    async def approve_with_key(client: httpx.AsyncClient) -> httpx.Response:
        url = f"{P}/approvals/{keyed}/approve"
        return await client.post(url, headers={"Idempotency-Key": f"discord-{keyed}"})

    async def approve(client: httpx.AsyncClient) -> httpx.Response:
        return await client.post(f"{P}/approvals/{unkeyed}/approve")

    replayed = await all_at_once(api_app, tokens, 20, approve_with_key, "approver")
    raced = await all_at_once(api_app, tokens, 20, approve, "approver")
    no_server_errors(replayed + raced, api)
    assert statuses(replayed) == {200: 20}
    assert len({r.content for r in replayed}) == 1, "every replay returns the first body"
    assert Counter(r.headers["Idempotent-Replayed"] for r in replayed) == {"true": 19, "false": 1}
    assert statuses(raced) == {200: 1, 409: 19}, "the losers learn it was decided first"
    assert all("not waiting for approval" in r.json()["message"] for r in raced if r.is_error)
    approvals = expect(await api.get(f"{P}/approvals", params={"status": "all"}), 200)["items"]
    assert [(a["status"], a["version"]) for a in approvals] == [("approved", 2)] * 2
    approves = [e for e in await timeline(api) if e["command"] == "approve"]
    assert len(approves) == 2
    assert expect(await api.get(f"{P}/stories"), 200)["total"] == 2


@asynccontextmanager
async def replicas(settings: Settings, count: int) -> AsyncIterator[list[ASGIApp]]:
    """`count` API replicas, each with its own Store and connection pool, sharing one Redis."""
    async with AsyncExitStack() as stack:
        managers = [LifespanManager(create_app(settings)) for _ in range(count)]
        yield [(await stack.enter_async_context(m)).app for m in managers]


async def test_replays_racing_the_first_decision_all_get_its_response(
    api: ApiClient,
    api_settings: Settings,
    tokens: Tokens,
    redis: Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Deterministic: the twins find the key unused, then read the approval only after the
    first request committed it; the transaction must notice its reads changed and replay."""
    await register(api, PID)
    (approval,) = await pending_approvals(api, "contested")
    recall, calls = idempotency.recall, Counter[str]()

    async def until(done: Callable[[], Awaitable[bool]]) -> None:
        async with asyncio.timeout(10):
            while not await done():
                await asyncio.sleep(0.005)

    async def everyone_read_the_key() -> bool:
        return calls["recall"] >= TWINS

    async def decided() -> bool:
        return '"pending"' not in (await redis.get(keys.entity(PID, "approval", approval)) or "")

    async def late_recall(*args: Any) -> idempotency.StoredResponse | None:
        stored = await recall(*args)
        calls["recall"] += 1
        if stored is None and calls["recall"] == 1:
            await until(everyone_read_the_key)  # the first goes on once all found the key unused
        elif stored is None:
            await until(decided)  # the twins go on once the first committed: their read is stale
        return stored

    monkeypatch.setattr(idempotency, "recall", late_recall)

    async def approve(client: httpx.AsyncClient) -> httpx.Response:
        url = f"{P}/approvals/{approval}/approve"
        return await client.post(url, headers={"Idempotency-Key": "interaction-1"})

    barrier = asyncio.Barrier(TWINS)

    async def on_replica(app: ASGIApp, n: int) -> httpx.Response:
        transport = httpx.ASGITransport(app, raise_app_exceptions=False)
        headers = tokens.auth("approver", subject=f"user-{n}")
        async with httpx.AsyncClient(
            transport=transport, base_url="http://api", headers=headers
        ) as c:
            await barrier.wait()
            return await approve(c)

    async with replicas(api_settings, TWINS) as apps:
        responses = await asyncio.gather(*(on_replica(app, n) for n, app in enumerate(apps)))
    no_server_errors(responses, api)
    assert statuses(responses) == {200: TWINS}, [r.text for r in responses]
    replayed = Counter(r.headers["Idempotent-Replayed"] for r in responses)
    assert replayed == {"true": TWINS - 1, "false": 1}
    assert len({r.content for r in responses}) == 1


async def test_writers_sharing_one_etag_exactly_one_wins(
    api: ApiClient, api_app: ASGIApp, tokens: Tokens
) -> None:
    await register(api, PID, start=False)
    etag = (await api.get(P)).headers["ETag"]

    async def add(client: httpx.AsyncClient) -> httpx.Response:
        return await client.post(f"{P}/stories", json={"title": "mine"}, headers={"If-Match": etag})

    responses = await all_at_once(api_app, tokens, 20, add)
    no_server_errors(responses, api)
    assert statuses(responses) == {201: 1, 412: 19}
    refused = [r.json() for r in responses if r.status_code == 412]
    assert {(b["type"], b["current_version"]) for b in refused} == {("precondition_failed", 2)}
    assert len(await all_stories(api)) == 1
    assert expect(await api.get(P), 200)["version"] == 2


async def test_story_writers_sharing_one_etag_exactly_one_wins(
    api: ApiClient, api_app: ASGIApp, tokens: Tokens
) -> None:
    await register(api, PID, start=False)
    created = expect(await api.post(f"{P}/stories", json={"title": "contested"}), 201)
    url = f"{P}/stories/{created['result']['story_id']}"
    etag = (await api.get(url)).headers["ETag"]
    names = ["top", "high", "medium", "low"] * 5

    async def move(client: httpx.AsyncClient) -> httpx.Response:
        priority = names.pop()
        body = {"priority": priority}
        return await client.put(f"{url}/priority", json=body, headers={"If-Match": etag})

    responses = await all_at_once(api_app, tokens, 20, move)
    no_server_errors(responses, api)
    assert statuses(responses) == {200: 1, 412: 19}
    winner = next(r.json() for r in responses if r.status_code == 200)
    story = expect(await api.get(url), 200)
    assert (story["version"], story["priority"]) == (2, winner["result"]["priority"])
    assert {r.json()["current_version"] for r in responses if r.status_code == 412} == {2}
