"""Valkey (AOF everysec) SIGKILLed under an API replica and restarted on the same port and data
directory: every decision the API acknowledged is still there (it replays its first answer),
and so is every acknowledged plain write; the API answers again without a restart of its own.

The small form of the chaos suite's REDIS scenario (`uv run python -m loadtest.chaos`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from loadtest.chaos_drive import Users
from loadtest.chaos_http import API, command, idempotency_key
from loadtest.chaos_valkey import ChaosValkey
from loadtest.harness import ServerProcess, admin_token, free_port, new_secret
from shared.platform.redis import create_redis
from shared.state import keys

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(90)]

PID = "chaos-e2e"
PROPOSALS = 6


@dataclass
class Running:
    valkey: ChaosValkey
    users: Users


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    valkey = ChaosValkey(tmp_path / "redis", free_port())
    valkey.start()
    secret = new_secret()
    api = ServerProcess("services.api", redis_url=valkey.url, jwt_secret=secret, workdir=tmp_path)
    api.start()
    try:
        await api.wait_ready(60)
        auth = {"Authorization": f"Bearer {admin_token(secret)}"}
        async with httpx.AsyncClient(base_url=api.base_url, headers=auth, timeout=30) as http:
            yield Running(valkey, Users(http))
    finally:
        api.stop()
        valkey.stop()


async def must(users: Users, url: str, body: dict[str, object]) -> dict[str, object]:
    answer = await users.post(url, body, idempotency_key())
    assert answer.ok, (answer.status, answer.body)
    return answer.body


async def proposals(users: Users) -> list[str]:
    register = command("project register", {"repo_url": "/srv/git/e2e.git", "id": PID})
    await must(users, f"{API}/commands", register)
    await must(users, f"{API}/commands", command("project start", {"project": PID}))
    stories = [{"title": f"Story {n}"} for n in range(PROPOSALS)]
    epic = command("epic", {"description": "Chaos", "stories": stories})
    body = await must(users, f"{API}/projects/{PID}/commands", epic)
    result = body["result"]
    assert isinstance(result, dict)
    return list(result["proposed_story_ids"])


async def served_again(users: Users, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while (await users.state_of(PID)) is None:
        assert time.monotonic() < deadline, "the API did not answer after Valkey's restart"
        await asyncio.sleep(0.1)


async def test_acknowledged_decisions_survive_a_kill_9_of_valkey(running: Running) -> None:
    users = running.users
    ids = await proposals(users)
    for n, story in enumerate(ids):
        if n % 2:
            await users.decide(PID, command("reject", {"ids": [story], "reason": "no"}))
        else:
            await users.decide(PID, command("approve", {"ids": [story]}))
    url = f"{API}/projects/{PID}/commands"
    written = [
        await must(users, url, command("backlog add_story", {"title": f"W{n}"})) for n in range(5)
    ]
    assert len(users.journal.decisions) == PROPOSALS

    running.valkey.kill()  # at once after the last acknowledgement: no time for a lazy fsync
    refused = await users.post(url, command("approve", {"ids": ids[:1]}), idempotency_key())
    assert not refused.ok  # Redis is down: nothing is acknowledged
    running.valkey.start()
    await served_again(users)

    replays = [await users.replay(ack) for ack in users.journal.decisions]
    assert replays == [True] * PROPOSALS
    redis = create_redis(running.valkey.url, "chaos-e2e")
    try:
        stories = [str(w["result"]["story_id"]) for w in written]  # type: ignore[index]
        found = await redis.mget([keys.entity(PID, "story", s) for s in stories])
    finally:
        await redis.aclose()
    assert None not in found
