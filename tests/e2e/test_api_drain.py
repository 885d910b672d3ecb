"""An API replica stopped with SIGTERM while a request is in flight: it stops accepting
connections at once, still answers that request, and exits 0 (uvicorn's graceful shutdown,
bounded by `api.drain_timeout_s`)."""

from __future__ import annotations

import asyncio
import secrets
import signal
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from services.api.board.stream import RETRY_MS
from shared.domain.commands import Role
from shared.platform.auth import mint_token
from shared.state import keys
from tests.e2e.api_replicas import start_replica, stop_all, wait_ready

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(90)]

# How long Redis holds the request's write (below the API's 5 s Redis timeout): the request is
# in flight meanwhile. SIGTERM -> new connections refused: uvicorn checks every 0.1 s.
PAUSE_MS = 3_500
REFUSED_WITHIN_S = 2.5
DRAIN_TIMEOUT_S = 20


async def write_parked(redis: Redis) -> None:
    """Until a client's write waits on the paused Redis (shown as a blocked client)."""
    async with asyncio.timeout(10):
        while int((await redis.info("clients"))["blocked_clients"]) < 1:
            await asyncio.sleep(0.02)


async def refusing(url: str, timeout_s: float) -> bool:
    """True once a new connection to `url` is refused."""
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient(timeout=1) as probe:
        while time.monotonic() < deadline:
            try:
                await probe.get(f"{url}/livez")
            except httpx.ConnectError:
                return True
            await asyncio.sleep(0.05)
    return False


async def test_sigterm_stops_accepting_finishes_the_request_in_flight_and_exits_0(
    redis: Redis, redis_url: str, tmp_path: Path
) -> None:
    secret = secrets.token_urlsafe(36)
    config = f"api: {{drain_timeout_s: {DRAIN_TIMEOUT_S}}}\n"
    replica = start_replica(redis_url, secret, tmp_path, "draining", config)
    token = mint_token(secret, "alice", Role.ADMIN, timedelta(hours=1))
    try:
        wait_ready(replica)
        async with httpx.AsyncClient(
            base_url=replica.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client:
            await redis.client_pause(PAUSE_MS, all=False)  # writes wait, reads go on
            body = {"repo_url": "/srv/git/drained.git", "id": "drained"}
            in_flight = asyncio.create_task(client.post("/api/v1/projects", json=body))
            await write_parked(redis)
            replica.process.send_signal(signal.SIGTERM)

            assert await refusing(replica.url, REFUSED_WITHIN_S)
            assert not in_flight.done(), "the request ended before Redis let its write through"
            response = await in_flight
    finally:
        await redis.client_unpause()
        stop_all([replica])  # waits for the exit: code 0, lifespan shut down, no error logged

    assert response.status_code == 201, response.text
    assert await redis.exists(keys.project("drained"))


async def test_sigterm_ends_open_board_streams_at_once_instead_of_waiting_out_the_drain(
    redis: Redis, redis_url: str, tmp_path: Path
) -> None:
    secret = secrets.token_urlsafe(36)
    config = f"api: {{drain_timeout_s: {DRAIN_TIMEOUT_S}, board_stream_max_s: 600}}\n"
    replica = start_replica(redis_url, secret, tmp_path, "streaming", config)
    token = mint_token(secret, "alice", Role.ADMIN, timedelta(hours=1))
    try:
        wait_ready(replica)
        async with httpx.AsyncClient(
            base_url=replica.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        ) as client:
            body = {"repo_url": "/srv/git/watched.git", "id": "watched"}
            assert (await client.post("/api/v1/projects", json=body)).status_code == 201
            async with client.stream("GET", "/board/p/watched/events") as stream:
                assert stream.status_code == 200
                lines = stream.aiter_lines()
                assert await anext(lines) == f"retry: {RETRY_MS}"  # the stream is open
                replica.process.send_signal(signal.SIGTERM)
                signalled = time.monotonic()
                rest = [line async for line in lines]  # ends when the replica ends it
            ended_after_s = time.monotonic() - signalled
        exit_code = replica.process.wait(timeout=DRAIN_TIMEOUT_S + 10)
        exited_after_s = time.monotonic() - signalled
    finally:
        stop_all([replica])
    assert all(line in ("", ": keep-alive") for line in rest), rest
    # not held until api.drain_timeout_s: the stream ended, then the process, well before it
    assert ended_after_s < DRAIN_TIMEOUT_S / 2, ended_after_s
    assert (exit_code, exited_after_s < DRAIN_TIMEOUT_S / 2) == (0, True), exited_after_s
