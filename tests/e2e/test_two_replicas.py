"""Two real API replicas (uvicorn processes) on loopback sharing one Redis: what one writes the
other serves, and writers spread over both, from tasks and from separate processes, lose nothing.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from shared.domain.commands import Role
from shared.platform.auth import mint_token
from tests.e2e.api_replicas import REPO_ROOT, Replica, start_replica, stop_all, wait_ready

if TYPE_CHECKING:
    from redis.asyncio import Redis

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(120)]

API = "/api/v1"

# One OS process of writers: argv[1] is a JSON object with the replicas' urls, a token, the
# project, how many tasks and stories per task, and the wall-clock time to start at.
HAMMER = """
import asyncio, collections, json, sys, time
import httpx

async def main(cfg):
    urls, headers = cfg["urls"], {"Authorization": "Bearer " + cfg["token"]}
    clients = [httpx.AsyncClient(base_url=u, headers=headers, timeout=60) for u in urls]
    statuses, ids = collections.Counter(), []
    async def task(n):
        for k in range(cfg["per_task"]):
            client = clients[(n + k) % len(clients)]
            title = "process %s task %s story %s" % (cfg["name"], n, k)
            r = await client.post("/api/v1/projects/%s/stories" % cfg["project"], json={"title": title})
            statuses[r.status_code] += 1
            if r.status_code == 201:
                ids.append(r.json()["result"]["story_id"])
    await asyncio.sleep(max(0.0, cfg["start_at"] - time.time()))
    await asyncio.gather(*(task(n) for n in range(cfg["tasks"])))
    for client in clients:
        await client.aclose()
    sys.stdout.write(json.dumps({"statuses": statuses, "ids": ids}))

asyncio.run(main(json.loads(sys.argv[1])))
"""


@dataclass(frozen=True)
class Stack:
    replicas: list[Replica]
    secret: str

    def token(self, role: Role = Role.ADMIN, subject: str = "alice") -> str:
        return mint_token(self.secret, subject, role, timedelta(hours=1))

    def client(self, index: int, **kwargs: Any) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.token()}"}
        return httpx.AsyncClient(
            base_url=self.replicas[index].url, headers=headers, timeout=60, **kwargs
        )


@pytest.fixture(scope="module")
def stack(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Two API processes on loopback sharing the session's Redis; SIGTERM and a clean exit at
    the end are part of the contract (checked on teardown)."""
    secret = secrets.token_urlsafe(36)  # 48 characters
    workdir = tmp_path_factory.mktemp("replicas")
    replicas = [start_replica(redis_url, secret, workdir, f"api-{n}") for n in range(2)]
    try:
        for replica in replicas:
            wait_ready(replica)
        yield Stack(replicas, secret)
    finally:
        stop_all(replicas)


@pytest.fixture
async def clients(stack: Stack, redis: Redis) -> AsyncIterator[list[httpx.AsyncClient]]:
    """One client per replica, as an admin, on an empty database."""
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with stack.client(0, limits=limits) as a, stack.client(1, limits=limits) as b:
        yield [a, b]


async def register(client: httpx.AsyncClient, project_id: str) -> None:
    body = {"repo_url": f"/srv/git/{project_id}.git", "id": project_id}
    response = await client.post(f"{API}/projects", json=body)
    assert response.status_code == 201, response.text


async def count_stories(client: httpx.AsyncClient, project_id: str) -> list[str]:
    ids: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"status": "all", "limit": 500}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(f"{API}/projects/{project_id}/stories", params=params)).json()
        ids += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


async def test_a_change_through_one_replica_is_served_by_the_other(
    clients: list[httpx.AsyncClient],
) -> None:
    a, b = clients
    await register(a, "shared")
    through_a, through_b = (
        await a.get(f"{API}/projects/shared"),
        await b.get(f"{API}/projects/shared"),
    )
    assert through_b.status_code == 200
    assert through_b.json() == through_a.json()
    assert through_b.headers["ETag"] == through_a.headers["ETag"] == '"1"'

    added = await b.post(
        f"{API}/projects/shared/stories",
        json={"title": "via b"},
        headers={"If-Match": through_a.headers["ETag"]},
    )
    assert added.status_code == 201, added.text
    assert added.headers["ETag"] == '"2"'
    again = await a.get(f"{API}/projects/shared")
    assert (again.headers["ETag"], again.json()["version"]) == ('"2"', 2)
    story_id = added.json()["result"]["story_id"]
    story = await a.get(f"{API}/projects/shared/stories/{story_id}")
    assert story.json()["title"] == "via b"
    assert (
        story.headers["ETag"]
        == (await b.get(f"{API}/projects/shared/stories/{story_id}")).headers["ETag"]
    )

    stale = await a.post(
        f"{API}/projects/shared/stories",
        json={"title": "stale"},
        headers={"If-Match": through_a.headers["ETag"]},
    )
    assert stale.status_code == 412, stale.text
    assert stale.json()["current_version"] == 2
    events = (await b.get(f"{API}/projects/shared/timeline")).json()["events"]
    assert [e["command"] for e in events] == ["project register", "backlog add_story"]


async def test_50_writers_over_both_replicas_lose_nothing(
    clients: list[httpx.AsyncClient],
) -> None:
    await register(clients[0], "busy")
    barrier = asyncio.Barrier(50)

    async def writer(n: int) -> list[httpx.Response]:
        await barrier.wait()
        out = []
        for k in range(4):
            client = clients[(n + k) % 2]
            body = {"title": f"writer {n} story {k}"}
            out.append(await client.post(f"{API}/projects/busy/stories", json=body))
        return out

    responses = [r for batch in await asyncio.gather(*map(writer, range(50))) for r in batch]
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 200}, [r.text for r in responses if r.status_code != 201][:3]
    versions = sorted(r.json()["project_version"] for r in responses)
    assert versions == list(range(2, 202))
    for client in clients:
        ids = await count_stories(client, "busy")
        assert sorted(ids) == sorted(r.json()["result"]["story_id"] for r in responses)
        project = await client.get(f"{API}/projects/busy")
        assert project.headers["ETag"] == '"201"'


async def test_four_processes_hammering_both_replicas_lose_nothing(
    stack: Stack, clients: list[httpx.AsyncClient], tmp_path: Path
) -> None:
    await register(clients[1], "hammered")
    config = {
        "urls": [r.url for r in stack.replicas],
        "token": stack.token(Role.MEMBER, "hammer"),
        "project": "hammered",
        "tasks": 5,
        "per_task": 10,
        "start_at": time.time() + 2.0,
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", HAMMER, json.dumps(config | {"name": n})],
            cwd=REPO_ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for n in range(4)
    ]
    reports = []
    for process in processes:
        out, err = await asyncio.to_thread(process.communicate, timeout=90)
        assert process.returncode == 0, err.decode(errors="replace")[-2000:]
        reports.append(json.loads(out))
    statuses = sum(
        (Counter({int(k): v for k, v in r["statuses"].items()}) for r in reports), Counter()
    )
    assert statuses == {201: 200}
    written = [i for r in reports for i in r["ids"]]
    assert len(set(written)) == 200
    for client in clients:
        assert sorted(await count_stories(client, "hammered")) == sorted(written)
        project = (await client.get(f"{API}/projects/hammered")).json()
        assert project["version"] == 1 + 200


def test_a_replica_stops_cleanly_on_sigterm(redis_url: str, tmp_path: Path) -> None:
    replica = start_replica(redis_url, secrets.token_urlsafe(36), tmp_path, "lonely")
    try:
        wait_ready(replica)
        assert httpx.get(f"{replica.url}/livez", timeout=5).json() == {"status": "ok"}
    finally:
        stop_all([replica])
    assert replica.process.returncode == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{replica.url}/livez", timeout=1)
