"""Chaos API: two API replicas under load (writes that bump the project's version, and reads);
one is SIGKILLed. The load driver balances like nginx: round-robin, a connection refused goes to
the next replica; a write cut off in flight is retried with its Idempotency-Key (as the CLI does).

Afterwards every acknowledged write must be in Redis, each with its own project version, and
the project's timeline must hold every version from the first write to the last exactly once.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from loadtest.chaos_config import ChaosConfig
from loadtest.chaos_http import API, Answer, Kind, Tally, command, idempotency_key, send
from loadtest.harness import ServerProcess, admin_token, new_secret, private_redis
from shared.platform.redis import create_redis
from shared.state import keys, timeline

__all__ = ["ApiKillResult", "run_api_kill"]

PROJECT = "chaos-api"
_RETRIES = 3


@dataclass
class ApiKillResult:
    tally: Tally
    in_flight_at_kill: int  # requests the victim had taken and not answered when it died
    in_flight_failed: int  # of those, answers lost with the connection
    stale_connections: int  # sent after the kill on a kept-alive connection to the dead replica
    not_sent: int  # connects refused by the dead replica, sent to the other one instead
    acked_writes: int
    retried_writes: int  # cut off in flight, then acknowledged on retry (same key)
    lost_updates: int  # acknowledged writes missing afterwards
    duplicate_versions: int  # two acknowledged writes answered with one project version
    versions_contiguous: bool  # the timeline holds first..last version, each once
    wall_s: float
    kill_at_s: float


@dataclass
class _Replica:
    server: ServerProcess
    http: httpx.AsyncClient
    outstanding: int = 0


@dataclass
class _Balancer:
    replicas: list[_Replica]
    tally: Tally = field(default_factory=Tally)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    async def request(self, method: str, url: str, **kwargs: Any) -> Answer:
        """Round-robin; a refused connect tries the next replica (nothing reached a server)."""
        answer: Answer | None = None
        for _ in range(len(self.replicas)):
            replica = self.replicas[next(self._turn) % len(self.replicas)]
            replica.outstanding += 1
            try:
                answer = await send(replica.http, method, url, **kwargs)
            finally:
                replica.outstanding -= 1
            self.tally.add(answer)
            if answer.kind is not Kind.NOT_SENT:
                return answer
        assert answer is not None
        return answer


@dataclass
class _Load:
    balancer: _Balancer
    until: float
    acked: dict[str, int] = field(default_factory=dict)  # story id -> project version
    retried: int = 0

    async def writer(self, n: int) -> None:
        for i in itertools.count():
            if time.monotonic() >= self.until:
                return
            answer, attempts = await self._write(f"writer {n} story {i}")
            if answer.ok:
                self.retried += attempts > 1
                self.acked[answer.body["result"]["story_id"]] = answer.body["project_version"]

    async def _write(self, title: str) -> tuple[Answer, int]:
        """One write; cut off in flight, it is sent again with the same key (up to _RETRIES)."""
        body, key = command("backlog add_story", {"title": title}), idempotency_key()
        url = f"{API}/projects/{PROJECT}/commands"
        attempts = 0
        while True:
            attempts += 1
            answer = await self.balancer.request("POST", url, json=body, key=key)
            if answer.kind is not Kind.IN_FLIGHT or attempts == _RETRIES:
                return answer, attempts

    async def reader(self) -> None:
        while time.monotonic() < self.until:
            await self.balancer.request("GET", f"{API}/projects/{PROJECT}/state")


async def run_api_kill(config: ChaosConfig, workdir: Path) -> ApiKillResult:
    secret = new_secret()
    with private_redis(workdir / "redis") as redis_server:
        servers = [
            ServerProcess(
                "services.api", redis_url=redis_server.url, jwt_secret=secret, workdir=workdir
            )
            for _ in range(2)
        ]
        for server in servers:
            server.start()
        try:
            for server in servers:
                await server.wait_ready(60)
            return await _measure(config, servers, secret, redis_server.url)
        finally:
            for server in servers:
                server.stop()


async def _measure(
    config: ChaosConfig, servers: list[ServerProcess], secret: str, redis_url: str
) -> ApiKillResult:
    auth = {"Authorization": f"Bearer {admin_token(secret)}"}
    clients = [httpx.AsyncClient(base_url=s.base_url, headers=auth, timeout=30) for s in servers]
    try:
        balancer = _Balancer([_Replica(s, c) for s, c in zip(servers, clients, strict=True)])
        await _setup(balancer)
        first_version = await _project_version(redis_url)
        balancer.tally = Tally()  # the figures cover the load only
        began = time.monotonic()
        load = _Load(balancer, began + config.load_s)
        writers = config.concurrency // 2
        tasks = [asyncio.create_task(load.writer(n)) for n in range(writers)]
        tasks += [asyncio.create_task(load.reader()) for _ in range(config.concurrency - writers)]
        await asyncio.sleep(config.kill_after_s)
        victim = balancer.replicas[0]
        in_flight = victim.outstanding
        killed_at = time.monotonic()
        os.kill(victim.server.pid, signal.SIGKILL)
        kill_at = killed_at - began
        await asyncio.gather(*tasks)
        wall = time.monotonic() - began
    finally:
        for client in clients:
            await client.aclose()
    lost, contiguous = await _verify(redis_url, load.acked, first_version)
    versions = list(load.acked.values())
    return ApiKillResult(
        tally=balancer.tally,
        in_flight_at_kill=in_flight,
        in_flight_failed=sum(1 for t in balancer.tally.in_flight_sent_at if t < killed_at),
        stale_connections=sum(1 for t in balancer.tally.in_flight_sent_at if t >= killed_at),
        not_sent=balancer.tally.counts[Kind.NOT_SENT],
        acked_writes=len(load.acked),
        retried_writes=load.retried,
        lost_updates=lost,
        duplicate_versions=len(versions) - len(set(versions)),
        versions_contiguous=contiguous,
        wall_s=wall,
        kill_at_s=kill_at,
    )


async def _setup(balancer: _Balancer) -> None:
    register = command("project register", {"repo_url": "/srv/git/chaos.git", "id": PROJECT})
    for url, body in (
        (f"{API}/commands", register),
        (f"{API}/commands", command("project start", {"project": PROJECT})),
    ):
        answer = await balancer.request("POST", url, json=body, key=idempotency_key())
        if not answer.ok:
            raise RuntimeError(f"chaos API setup failed: {answer.status} {answer.body}")


async def _project_version(redis_url: str) -> int:
    redis = create_redis(redis_url, "chaos-verify")
    try:
        raw = await redis.get(keys.project(PROJECT))
    finally:
        await redis.aclose()
    return int(json.loads(raw or "{}").get("version", 0))


async def _verify(redis_url: str, acked: dict[str, int], first_version: int) -> tuple[int, bool]:
    """(acknowledged writes missing, whether the timeline's versions are first+1..last, once)."""
    redis = create_redis(redis_url, "chaos-verify")
    try:
        ids = sorted(acked)
        found = await redis.mget([keys.entity(PROJECT, "story", i) for i in ids]) if ids else []
        events = await timeline.read(redis, PROJECT, limit=1_000_000)
        last = await _project_version(redis_url)
    finally:
        await redis.aclose()
    lost = sum(1 for value in found if value is None)
    versions = sorted(
        e.version for e in events if e.version is not None and e.version > first_version
    )
    return lost, versions == list(range(first_version + 1, last + 1))
