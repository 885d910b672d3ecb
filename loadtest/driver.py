"""The bounded load driver: N keep-alive connections, N asyncio tasks, a deadline and a cap.

It records every latency, status and transport error, and the CPU time of the generator (this
process), of the watched server processes and of the whole machine over the run.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

from loadtest.clients import (
    TRANSPORT_ERRORS,
    Client,
    ClientKind,
    HttpxClient,
    RawClient,
    RequestSpec,
)
from loadtest.harness import HOST, cpu_seconds, machine_busy_cpu_s
from loadtest.stats import LatencySummary, summarize

__all__ = ["ClientKind", "Driver", "LoadResult", "RequestFactory", "RequestSpec"]

RequestFactory = Callable[[int, int], RequestSpec]  # (worker index, request number) -> request


@dataclass
class LoadResult:
    summary: LatencySummary
    statuses: Counter[int]
    exceptions: Counter[str]
    generator_cpu_s: float
    process_cpu_s: dict[str, float]
    machine_cpu_s: float
    latencies_s: list[float] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)

    @property
    def wall_s(self) -> float:
        return self.summary.wall_s

    @property
    def other_cpu_s(self) -> float:
        """Busy CPU of everything else on the machine (other users' jobs, the kernel)."""
        return self.machine_cpu_s - self.generator_cpu_s - sum(self.process_cpu_s.values())

    def cpu_share(self, seconds: float) -> float:
        """CPU seconds per wall second: 1.0 is one core busy for the whole run."""
        return seconds / self.wall_s if self.wall_s > 0 else float("nan")

    @classmethod
    def pooled(cls, results: Sequence[LoadResult]) -> LoadResult:
        """Several runs as one: counts, wall time and CPU summed, latencies merged."""
        latencies = [x for r in results for x in r.latencies_s]
        ok = sum(r.summary.ok for r in results)
        errors = sum(r.summary.errors for r in results)
        wall = sum(r.wall_s for r in results)
        names = {name for r in results for name in r.process_cpu_s}
        return cls(
            summary=summarize(latencies, ok, errors, wall),
            statuses=sum((r.statuses for r in results), Counter()),
            exceptions=sum((r.exceptions for r in results), Counter()),
            generator_cpu_s=sum(r.generator_cpu_s for r in results),
            process_cpu_s={n: sum(r.process_cpu_s.get(n, 0.0) for r in results) for n in names},
            machine_cpu_s=sum(r.machine_cpu_s for r in results),
            latencies_s=latencies,
        )


@dataclass
class _Run:
    deadline: float
    max_requests: int
    ok_statuses: frozenset[int]
    keep_bodies: bool
    issued: int = 0
    ok: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    exceptions: Counter[str] = field(default_factory=Counter)
    bodies: list[bytes] = field(default_factory=list)

    def take(self) -> int | None:
        if self.issued >= self.max_requests or time.perf_counter() >= self.deadline:
            return None
        self.issued += 1
        return self.issued - 1


class Driver:
    """N keep-alive HTTP clients (one connection each) driven by N asyncio tasks."""

    def __init__(
        self,
        base_url: str | Sequence[str],
        *,
        concurrency: int,
        headers: Mapping[str, str] | None = None,
        timeout_s: float = 10.0,
        client: ClientKind = "httpx",
    ) -> None:
        """Several base URLs spread the connections over them in turn (client i gets i mod n)."""
        urls = [base_url] if isinstance(base_url, str) else list(base_url)
        all_headers = {"content-type": "application/json", **(headers or {})}
        self._clients: list[Client] = []
        for n in range(concurrency):
            url = urls[n % len(urls)]
            port = _loopback_port(url)
            self._clients.append(
                RawClient(port, all_headers, timeout_s)
                if client == "raw"
                else HttpxClient(url, all_headers, timeout_s)
            )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.gather(*(c.aclose() for c in self._clients), return_exceptions=True)

    async def run(
        self,
        make_request: RequestFactory,
        *,
        duration_s: float,
        max_requests: int,
        ok_statuses: frozenset[int] = frozenset({200}),
        keep_bodies: bool = False,
        watch_pids: Mapping[str, int] | None = None,
    ) -> LoadResult:
        """Send requests until `duration_s` has passed or `max_requests` were sent."""
        pids = dict(watch_pids or {})
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
        machine_before = machine_busy_cpu_s()
        generator_before = time.process_time()
        start = time.perf_counter()
        run = _Run(start + duration_s, max_requests, ok_statuses, keep_bodies)
        await asyncio.gather(
            *(_work(client, i, make_request, run) for i, client in enumerate(self._clients))
        )
        wall = time.perf_counter() - start
        return LoadResult(
            summary=summarize(run.latencies, run.ok, run.errors, wall),
            statuses=run.statuses,
            exceptions=run.exceptions,
            generator_cpu_s=time.process_time() - generator_before,
            process_cpu_s={n: cpu_seconds(pid) - cpu_before[n] for n, pid in pids.items()},
            machine_cpu_s=machine_busy_cpu_s() - machine_before,
            latencies_s=run.latencies,
            bodies=run.bodies,
        )


def _loopback_port(base_url: str) -> int:
    prefix = f"http://{HOST}:"
    if not base_url.startswith(prefix):
        raise ValueError(f"the load driver only talks to {HOST}, not {base_url}")
    return int(base_url.removeprefix(prefix).rstrip("/"))


async def _work(client: Client, index: int, make_request: RequestFactory, run: _Run) -> None:
    while (number := run.take()) is not None:
        spec = make_request(index, number)
        began = time.perf_counter()
        try:
            status, content = await client.send(spec)
        except TRANSPORT_ERRORS as exc:
            run.latencies.append(time.perf_counter() - began)
            run.exceptions[type(exc).__name__] += 1
            run.errors += 1
            continue
        run.latencies.append(time.perf_counter() - began)
        run.statuses[status] += 1
        if status in run.ok_statuses:
            run.ok += 1
            if run.keep_bodies:
                run.bodies.append(content)
        else:
            run.errors += 1
