"""Scale-out: one journey's throughput with 1, 2, ... API replicas on the same Valkey.

Every replica is its own `python -m services.api` process; all of them run for the whole bench
(the ones a run does not use sit idle) and are watched for CPU. Two ways in, both measured:

- `proxy`: the generator opens its connections to `loadtest.lb_proxy` (a round-robin L4
  balancer, its own process), which pairs each with a connection to the next replica.
- `direct`: the generator spreads its connections round-robin over the replicas itself, as a
  client-side balancer (or a kernel-level one) would: no extra hop, no proxy CPU.

Counts alternate 1, 2, 3 then 3, 2, 1 per round so a drift of the shared machine hits every
count alike. Traffic stays on 127.0.0.1; each run stops at its duration or its request cap.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis

from loadtest.driver import Driver, LoadResult, RequestFactory, RequestSpec
from loadtest.harness import HOST, ServerProcess, admin_token, free_port, new_secret
from loadtest.scale_config import ScaleConfig
from loadtest.scenario import json_body
from loadtest.seeding import Seeder
from loadtest.worker_procs import ChildProcess, child_env, wait_until
from shared.platform.redis import create_redis
from shared.state.store import Store

__all__ = ["ScaleRun", "count_order", "run_scale", "scale_request_factory"]

_PROJECT = "scale-{n}"
_WRITE = json_body(
    {"command": "backlog add_story", "args": {"title": "scale story", "priority": 3}}
)


@dataclass(frozen=True)
class ScaleRun:
    journey: str
    mode: str
    replicas: int
    round_no: int
    result: LoadResult


def count_order(replicas: int, rounds: int) -> Iterator[tuple[int, int]]:
    """(round, replica count): 1..n ascending in odd rounds, descending in even ones."""
    for round_no in range(1, rounds + 1):
        counts = range(1, replicas + 1)
        yield from ((round_no, n) for n in (counts if round_no % 2 else reversed(counts)))


def scale_request_factory(journey: str, projects: int, write_every: int) -> RequestFactory:
    """`read`: GET one project; `mix`: connection i reads project i mod `projects`, and one
    request in `write_every` (by global number) adds a story to it instead."""
    reads = [
        RequestSpec("GET", f"/api/v1/projects/{_PROJECT.format(n=n)}") for n in range(projects)
    ]
    writes = [
        RequestSpec("POST", f"/api/v1/projects/{_PROJECT.format(n=n)}/commands", _WRITE)
        for n in range(projects)
    ]

    def request(worker: int, number: int) -> RequestSpec:
        if journey == "read":
            return reads[0]
        project = worker % projects
        return writes[project] if number % write_every == write_every - 1 else reads[project]

    return request


async def run_scale(
    config: ScaleConfig, workdir: Path, redis_url: str, redis_pid: int
) -> list[ScaleRun]:
    secret = new_secret()
    with ExitStack() as stack:
        replicas = [
            stack.enter_context(
                ServerProcess(
                    "services.api", redis_url=redis_url, jwt_secret=secret, workdir=workdir
                )
            )
            for _ in range(config.replicas)
        ]
        async with AsyncExitStack() as clients:
            redis = create_redis(redis_url, client_name="awf.loadtest.scale")
            clients.push_async_callback(redis.aclose)
            await _seed(redis, config.projects)
            for replica in replicas:
                await replica.wait_ready()
            proxies = (
                await _start_proxies(stack, config, replicas, workdir)
                if "proxy" in (config.selected_modes)
                else []
            )
            auth = {"authorization": f"Bearer {admin_token(secret)}"}
            pids = {f"replica {i + 1}": r.pid for i, r in enumerate(replicas)} | {
                "redis": redis_pid
            }
            return await _measure_all(config, replicas, proxies, auth, pids)
    raise AssertionError("unreachable")  # pragma: no cover - the with block returns


async def _seed(redis: Redis, projects: int) -> None:
    seeder = Seeder(Store(redis))
    for n in range(projects):
        await seeder.project(_PROJECT.format(n=n))
        await seeder.stories(_PROJECT.format(n=n), 10)


async def _start_proxies(
    stack: ExitStack, config: ScaleConfig, replicas: list[ServerProcess], workdir: Path
) -> list[tuple[int, ChildProcess]]:
    """One balancer per replica count n, over the first n replicas: (port, process)."""
    proxies = []
    for n in range(1, config.replicas + 1):
        port = free_port()
        backends = [arg for r in replicas[:n] for arg in ("--backend", str(r.port))]
        proxy = ChildProcess(
            f"lb-proxy-{n}", "loadtest.lb_proxy", "--port", str(port), *backends,
            env=child_env(workdir), workdir=workdir,
        )  # fmt: skip
        stack.enter_context(proxy)
        await wait_until(_accepting(port), proxy, timeout_s=10)
        proxies.append((port, proxy))
    return proxies


def _accepting(port: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        try:
            _, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            return False
        writer.close()
        return True

    return check


async def _measure_all(
    config: ScaleConfig,
    replicas: list[ServerProcess],
    proxies: list[tuple[int, ChildProcess]],
    auth: dict[str, str],
    pids: dict[str, int],
) -> list[ScaleRun]:
    runs = []
    for round_no, n in count_order(config.replicas, config.rounds):
        for journey in config.selected_journeys:
            for mode in config.selected_modes:
                if mode == "proxy":
                    port, proxy = proxies[n - 1]
                    urls, watch = [f"http://{HOST}:{port}"], pids | {"proxy": proxy.pid}
                else:
                    urls, watch = [r.base_url for r in replicas[:n]], pids
                result = await _measure(config, journey, urls, auth, watch)
                runs.append(ScaleRun(journey, mode, n, round_no, result))
    return runs


async def _measure(
    config: ScaleConfig,
    journey: str,
    urls: list[str],
    auth: dict[str, str],
    watch: dict[str, int],
) -> LoadResult:
    request = scale_request_factory(journey, config.projects, config.write_every)
    ok = frozenset({200, 201})
    async with Driver(
        urls,
        concurrency=config.concurrency,
        headers=auth,
        timeout_s=config.request_timeout_s,
        client="raw",
    ) as driver:
        if config.warmup_s > 0:
            await driver.run(
                request,
                duration_s=config.warmup_s,
                max_requests=config.max_requests,
                ok_statuses=ok,
            )
        return await driver.run(
            request,
            duration_s=config.duration_s,
            max_requests=config.max_requests,
            ok_statuses=ok,
            watch_pids=watch,
        )
