"""Interaction ACK latency: signed slash commands on two API replicas vs `/livez` on the same ones.

Two `python -m services.api` processes share one private Valkey; Discord's side is played here:
every request is a fresh interaction (new id, so no replay refusal) signed with an Ed25519 key
whose public half the replicas are configured with. The floor is the same clients asking the
same replicas for `/livez` in the same run, so the ratio is what handling a command costs over
an HTTP round trip through the same server.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from nacl.signing import SigningKey

from loadtest.harness import ServerProcess, new_secret
from loadtest.seeding import Seeder
from loadtest.stats import LatencySummary, summarize
from services.gateway.discord import wire
from services.gateway.discord.catalog import build_catalog
from shared.fakes.discord import payloads
from shared.fakes.discord.interactions import Invoker, command_data, interaction_payload
from shared.platform.redis import create_redis
from shared.state.store import Store

__all__ = [
    "AckConfig",
    "AckResult",
    "Outcome",
    "classify",
    "discord_config",
    "run_ack",
    "signature_headers",
]

URL = "/api/v1/discord/interactions"
GUILD, CHANNEL, APP = "700000000000000001", "700000000000000002", "700000000000000003"
ADMIN_ROLE = "9004"
PROJECT = "bench-discord"


@dataclass(frozen=True)
class AckConfig:
    requests: int = 2_000  # signed interactions, and as many /livez, split across both replicas
    concurrency: int = 16  # keep-alive clients, half on each replica
    warmup: int = 200  # unmeasured requests of each kind first
    command: str = "state"
    timeout_s: float = 10.0


@dataclass
class Outcome:
    """One measured run: latencies, statuses, and what the bodies said."""

    summary: LatencySummary
    statuses: Counter[int]
    exceptions: Counter[str]
    kinds: Counter[str]  # "handled", "ephemeral", "other", "-" (not a 2xx)
    per_replica: Counter[int] = field(default_factory=Counter)
    latencies_s: list[float] = field(default_factory=list)

    @property
    def non_2xx(self) -> int:
        return sum(n for status, n in self.statuses.items() if not 200 <= status < 300) + sum(
            self.exceptions.values()
        )


@dataclass(frozen=True)
class AckResult:
    config: AckConfig
    interactions: Outcome
    livez: Outcome
    replicas: int


def signature_headers(key: SigningKey, body: bytes, timestamp: int) -> dict[str, str]:
    """The two headers Discord sends: Ed25519 over timestamp + body, hex-encoded."""
    stamp = str(timestamp)
    signature = key.sign(stamp.encode() + body).signature.hex()
    return {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": stamp}


def classify(status: int, body: bytes) -> str:
    """`handled`: a visible reply (type 4) or a deferral (5); `ephemeral`: a refusal (rate limit,
    role, options...); `other`: any other 2xx body; `-` for a non-2xx status."""
    if not 200 <= status < 300:
        return "-"
    try:
        reply: Any = json.loads(body)
    except ValueError:
        return "other"
    if not isinstance(reply, dict) or reply.get("type") not in (
        wire.MESSAGE,
        wire.DEFERRED_MESSAGE,
    ):
        return "other"
    data = reply.get("data") or {}
    flags = data.get("flags", 0) if isinstance(data, dict) else 0
    return "ephemeral" if isinstance(flags, int) and flags & wire.EPHEMERAL else "handled"


def discord_config(public_key_hex: str) -> dict[str, Any]:
    """The replicas' `discord` section: our key, an admin role, no practical rate limit."""
    return {
        "discord": {
            "public_key": public_key_hex,
            "roles": {"*": {ADMIN_ROLE: "admin"}},
            "max_commands_per_minute": 1_000_000,
            "rest_url": "http://127.0.0.1:9/api/v10",  # a deferred reply would fail fast here
        }
    }


class _Interactions:
    """Fresh signed slash interactions of one command, each with a new id and token."""

    def __init__(self, key: SigningKey, command: str, options: dict[str, Any]) -> None:
        paths = {name: path for path, name in build_catalog().commands_by_path.items()}
        self._key = key
        self._path = list(paths[command])
        self._options = options
        self._next = 800_000_000_000_000_000

    def _id(self) -> str:
        self._next += 1
        return str(self._next)

    def make(self, user_id: str) -> tuple[bytes, dict[str, str]]:
        user = payloads.user(user_id, f"user{user_id}")
        member = payloads.member(user, [ADMIN_ROLE], permissions="0")
        channel = payloads.text_channel(CHANNEL, GUILD, "general")
        invoker = Invoker(member=member, channel=channel, app_permissions="0")
        data = command_data(self._id(), self._path, self._options, GUILD)
        body = interaction_payload(
            (self._id(), "tok-" + self._id(), APP), wire.COMMAND, invoker, data
        )
        raw = json.dumps(body, separators=(",", ":")).encode()
        return raw, signature_headers(self._key, raw, int(time.time()))


Request = Callable[[int], tuple[str, str, bytes | None, dict[str, str]]]  # worker -> request


async def _drive(
    clients: Sequence[tuple[int, httpx.AsyncClient]], make: Request, count: int
) -> Outcome:
    """`count` requests over the clients (one keep-alive connection each), one task per client."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    exceptions: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    per_replica: Counter[int] = Counter()
    issued = 0
    ok = errors = 0

    async def work(index: int, replica: int, client: httpx.AsyncClient) -> None:
        nonlocal issued, ok, errors
        while issued < count:
            issued += 1
            method, path, body, headers = make(index)
            began = time.perf_counter()
            try:
                response = await client.request(method, path, content=body, headers=headers)
            except (httpx.HTTPError, OSError) as exc:
                latencies.append(time.perf_counter() - began)
                exceptions[type(exc).__name__] += 1
                errors += 1
                continue
            latencies.append(time.perf_counter() - began)
            statuses[response.status_code] += 1
            per_replica[replica] += 1
            kind = classify(response.status_code, response.content)
            kinds[kind] += 1
            if kind == "-":
                errors += 1
            else:
                ok += 1

    start = time.perf_counter()
    await asyncio.gather(*(work(i, r, c) for i, (r, c) in enumerate(clients)))
    wall = time.perf_counter() - start
    summary = summarize(latencies, ok, errors, wall)
    return Outcome(summary, statuses, exceptions, kinds, per_replica, latencies)


async def run_ack(workdir: Path, redis_url: str, config: AckConfig) -> AckResult:
    key = SigningKey.generate()
    secret = new_secret()
    with ExitStack() as stack:
        replicas = [
            ServerProcess("services.api", redis_url=redis_url, jwt_secret=secret, workdir=workdir)
            for _ in range(2)
        ]
        # Each ServerProcess wrote an empty workdir/config.yml (its AWF_CONFIG) when built; both
        # read it only when started, so the discord section goes in between.
        (workdir / "config.yml").write_text(
            json.dumps(discord_config(key.verify_key.encode().hex()))
        )
        for replica in replicas:
            stack.enter_context(replica)
        async with AsyncExitStack() as clients_stack:
            redis = create_redis(redis_url, client_name="awf.loadtest.discord")
            clients_stack.push_async_callback(redis.aclose)
            await Seeder(Store(redis)).project(PROJECT)
            for replica in replicas:
                await replica.wait_ready()
            clients: list[tuple[int, httpx.AsyncClient]] = []
            for n in range(config.concurrency):
                which = n % len(replicas)
                client = httpx.AsyncClient(
                    base_url=replicas[which].base_url,
                    limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                    timeout=config.timeout_s,
                    headers={"content-type": "application/json"},
                )
                clients_stack.push_async_callback(client.aclose)
                clients.append((which, client))

            interactions = _Interactions(key, config.command, {"project": PROJECT})

            def slash(worker: int) -> tuple[str, str, bytes | None, dict[str, str]]:
                body, headers = interactions.make(str(600 + worker))
                return "POST", URL, body, headers

            def livez(_worker: int) -> tuple[str, str, bytes | None, dict[str, str]]:
                return "GET", "/livez", None, {}

            first = await _drive(clients, slash, 1)  # fail fast on a misconfiguration
            if first.kinds["handled"] != 1:
                raise RuntimeError(
                    f"/{config.command} was not handled: {first.statuses} {first.kinds}\n"
                    + replicas[0].log_tail()
                )
            await _drive(clients, livez, config.warmup)
            await _drive(clients, slash, config.warmup)
            # Two rounds each, alternating, so a drift of the machine hits both sides alike.
            floor_runs, our_runs = [], []
            for size in (config.requests // 2, config.requests - config.requests // 2):
                floor_runs.append(await _drive(clients, livez, size))
                our_runs.append(await _drive(clients, slash, size))
    return AckResult(config, _pool(our_runs), _pool(floor_runs), len(replicas))


def _pool(runs: Sequence[Outcome]) -> Outcome:
    """Several rounds as one: latencies merged, counts and wall time summed."""
    latencies = [x for run in runs for x in run.latencies_s]
    ok = sum(run.summary.ok for run in runs)
    errors = sum(run.summary.errors for run in runs)
    wall = sum(run.summary.wall_s for run in runs)
    return Outcome(
        summarize(latencies, ok, errors, wall),
        sum((run.statuses for run in runs), Counter()),
        sum((run.exceptions for run in runs), Counter()),
        sum((run.kinds for run in runs), Counter()),
        sum((run.per_replica for run in runs), Counter()),
        latencies,
    )
