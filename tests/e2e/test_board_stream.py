"""The board's Server-Sent Events on two real API replicas: ids are timeline ids, a reconnect
to the other replica with Last-Event-ID resumes with no gap and no duplicate, idle streams get
heartbeats, and a stream ends at its time limit (then resumes)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import httpx
import pytest

from services.cli.processes import free_port_block
from services.cli.stack import Stack
from tests.e2e.board_sse import read_events

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(120)]
PID = "sse"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env = {"AWF_ENV": "dev", "API__BOARD_HEARTBEAT_S": "0.3", "API__BOARD_STREAM_MAX_S": "3"}
    root = tmp_path_factory.mktemp("board-sse")
    stack = Stack(
        root, port=free_port_block(2), replicas=2, appendonly=False, env=env, ready_timeout=60
    )
    with stack:
        with httpx.Client(base_url=stack.api_url, headers=auth(stack), timeout=10) as api:
            api.post("/api/v1/projects", json={"repo_url": "/srv/x.git", "id": PID})
        yield stack


def auth(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.admin_token()}"}


def add_stories(stack: Stack, count: int, url: str) -> None:
    with httpx.Client(base_url=url, headers=auth(stack), timeout=10) as api:
        for n in range(count):
            response = api.post(
                f"/api/v1/projects/{PID}/commands",
                json={"command": "backlog add_story", "args": {"title": f"story {n}"}},
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            assert response.status_code == 201, response.text


def timeline_ids(stack: Stack, after: str) -> list[str]:
    with httpx.Client(base_url=stack.api_url, headers=auth(stack), timeout=10) as api:
        page = api.get(f"/api/v1/projects/{PID}/timeline", params={"after": after, "limit": 1000})
        return [e["id"] for e in page.json()["events"]]


def latest(stack: Stack) -> str:
    ids = timeline_ids(stack, "0-0")
    return ids[-1]


def test_a_reconnect_to_the_other_replica_resumes_without_gap_or_duplicate(stack: Stack) -> None:
    start = latest(stack)
    first, second = stack.api_urls
    writer = threading.Thread(target=add_stories, args=(stack, 30, second))
    with httpx.Client(headers=auth(stack), timeout=10) as client:
        writer.start()  # events keep coming while the reader drops and comes back
        got, _ = read_events(client, f"{first}/board/p/{PID}/events?after={start}", until=12)
        while len(got) < 30:  # as a browser does: reconnect with the last id, here elsewhere
            resume = {"Last-Event-ID": str(got[-1].id)}
            url = f"{second}/board/p/{PID}/events?after={start}"
            more, _ = read_events(client, url, until=30 - len(got), headers=resume)
            got += more
        writer.join()
    ids = [e.id for e in got]
    assert ids == timeline_ids(stack, start)  # every event once, in order, across replicas
    assert [e.json()["id"] for e in got] == ids
    assert {e.json()["command"] for e in got} == {"backlog add_story"}


def test_a_live_event_reaches_a_stream_on_another_replica(stack: Stack) -> None:
    first, second = stack.api_urls
    with httpx.Client(headers=auth(stack), timeout=10) as client:
        timer = threading.Timer(0.5, add_stories, args=(stack, 1, second))
        timer.start()
        events, _ = read_events(client, f"{first}/board/p/{PID}/events", until=1)
        timer.join()
    assert events[0].json()["command"] == "backlog add_story"
    assert events[0].json()["payload"]["args"]["title"] == "story 0"


def test_idle_streams_get_heartbeats_and_end_at_their_time_limit(stack: Stack) -> None:
    with httpx.Client(headers=auth(stack), timeout=10) as client:
        events, comments = read_events(client, f"{stack.api_url}/board/p/{PID}/events", until=1)
    assert events == []  # nothing happened: the stream ended by itself after 3 s
    assert comments >= 3


def test_bad_requests_are_refused(stack: Stack) -> None:
    url = f"{stack.api_url}/board/p/{PID}/events"
    with httpx.Client(timeout=10) as client:
        assert client.get(url).status_code == 401
        bad = client.get(url, headers=auth(stack) | {"Last-Event-ID": "yesterday"})
        assert bad.status_code == 400
        assert client.get(f"{url}?after=1-2-3", headers=auth(stack)).status_code == 422
        missing = client.get(f"{stack.api_url}/board/p/nope/events", headers=auth(stack))
        assert missing.status_code == 404
        overview = client.get(f"{stack.api_url}/board/events?p=A;B", headers=auth(stack))
        assert overview.status_code == 400


def test_the_overview_stream_names_the_project(stack: Stack) -> None:
    with httpx.Client(headers=auth(stack), timeout=10) as client:
        timer = threading.Timer(0.5, add_stories, args=(stack, 1, stack.api_urls[1]))
        timer.start()
        events, _ = read_events(client, f"{stack.api_url}/board/events?p={PID}", until=1)
        timer.join()
    assert events[0].id is None  # no resume for the overview: it reloads on reconnect
    assert events[0].json()["project_id"] == PID
