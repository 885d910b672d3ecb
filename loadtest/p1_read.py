"""P1: `GET /api/v1/projects/{id}` through the whole API against the bare floor app.

Both servers run side by side (one uvicorn process each) on the same Valkey and the same
document; the driver alternates floor/ours per round so drift on a shared machine hits both.
"""

from __future__ import annotations

import json
import math

import httpx

from loadtest.driver import Driver, LoadResult, RequestSpec
from loadtest.harness import ServerProcess
from loadtest.scenario import Bench, Row, Section, cpu_cells, fmt, limited_by
from loadtest.stats import Goal, percentile, ratio

__all__ = ["GOAL", "run_p1"]

GOAL = Goal(">=", 0.8)
PROJECT = "bench-read"


async def run_p1(bench: Bench) -> Section:
    cfg = bench.config
    await bench.seeder.project(PROJECT)
    await bench.seeder.stories(PROJECT, 10)
    profile = cfg.profile_dir / "floor.prof" if cfg.profile_dir else None
    floor = ServerProcess(
        "loadtest.floor_app",
        redis_url=bench.redis_url,
        jwt_secret=bench.jwt_secret,
        workdir=bench.api.workdir,
        profile_to=profile,
    )
    with floor:
        await floor.wait_ready()
        servers = {"floor": floor, "ours": bench.api}
        await _same_document(bench, servers)
        runs: list[tuple[int, str, LoadResult]] = []
        for round_no in range(cfg.rounds):
            order = ("floor", "ours") if round_no % 2 == 0 else ("ours", "floor")
            for name in order:
                runs.append((round_no + 1, name, await _measure(bench, servers[name])))
    return _section(bench, runs)


async def _same_document(bench: Bench, servers: dict[str, ServerProcess]) -> None:
    """Both servers must answer 200 with the same document, or the comparison means nothing."""
    docs = []
    for server in servers.values():
        async with httpx.AsyncClient(base_url=server.base_url, headers=bench.auth) as client:
            response = await client.get(f"/api/v1/projects/{PROJECT}")
        if response.status_code != 200:
            raise RuntimeError(f"{server.module} answered {response.status_code}: {response.text}")
        docs.append(json.loads(response.content))
    if docs[0] != docs[1]:
        raise RuntimeError(f"the floor and the API disagree on the document: {docs}")


async def _measure(bench: Bench, server: ServerProcess) -> LoadResult:
    cfg = bench.config
    spec = RequestSpec("GET", f"/api/v1/projects/{PROJECT}")

    def request(_worker: int, _number: int) -> RequestSpec:
        return spec

    async with Driver(
        server.base_url,
        concurrency=cfg.concurrency,
        headers=bench.auth,
        timeout_s=cfg.request_timeout_s,
        client=cfg.client,
    ) as driver:
        if cfg.warmup_s > 0:
            await driver.run(request, duration_s=cfg.warmup_s, max_requests=cfg.max_requests)
        return await driver.run(
            request,
            duration_s=cfg.duration_s,
            max_requests=cfg.max_requests,
            watch_pids=bench.pids(server),
        )


def _section(bench: Bench, runs: list[tuple[int, str, LoadResult]]) -> Section:
    cfg = bench.config
    floor = LoadResult.pooled([r for _, name, r in runs if name == "floor"])
    ours = LoadResult.pooled([r for _, name, r in runs if name == "ours"])
    label = f"P1 `GET /projects/{{id}}` c={cfg.concurrency}"
    pairs = _paired(runs)
    throughput = [ratio(o.summary.throughput, f.summary.throughput) for f, o in pairs]
    cpu = [ratio(_cpu_per_request_us(f), _cpu_per_request_us(o)) for f, o in pairs]
    rows = [
        Row.checked(
            f"{label}: throughput, median of {len(pairs)} paired rounds ({_spread(throughput)})",
            fmt(ours.summary.throughput, "req/s"),
            fmt(floor.summary.throughput, "req/s"),
            _median(throughput),
            GOAL,
        ),
        Row(
            f"{label}: throughput, pooled over the rounds",
            fmt(ours.summary.throughput, "req/s"),
            fmt(floor.summary.throughput, "req/s"),
            ratio(ours.summary.throughput, floor.summary.throughput),
            None,
        ),
        Row(
            f"{label}: p50 latency (floor/ours)",
            fmt(ours.summary.p50_ms, "ms", 2),
            fmt(floor.summary.p50_ms, "ms", 2),
            ratio(floor.summary.p50_ms, ours.summary.p50_ms),
            None,
        ),
        Row(
            f"{label}: server CPU per request (floor/ours), median of the rounds ({_spread(cpu)})",
            fmt(_cpu_per_request_us(ours), "µs"),
            fmt(_cpu_per_request_us(floor), "µs"),
            _median(cpu),
            None,
        ),
    ]
    header = [
        "| round | server | req/s | p50 ms | p95 ms | p99 ms | errors "
        "| cores: generator | server | valkey | other | limited by |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    lines = [
        f"| {round_no} | {name} | {r.summary.throughput:,.0f} | {r.summary.p50_ms:.2f} "
        f"| {r.summary.p95_ms:.2f} | {r.summary.p99_ms:.2f} | {r.summary.errors} | "
        + " | ".join(cpu_cells(r))
        + f" | {limited_by(r)} |"
        for round_no, name, r in runs
    ]
    note = [
        "",
        f"Client: `{cfg.client}`. A run is only a fair capacity sample when it is limited by "
        "its server; a floor run limited by the generator (httpx spends about 0.5 ms of CPU per "
        "request) or by other jobs on the machine understates the floor and flatters ours. The "
        "server-CPU-per-request ratio does not depend on either and estimates the capacity "
        "ratio.",
    ]
    title = f"P1: read path, ours vs the bare floor (c={cfg.concurrency})"
    return Section(title, rows, [*header, *lines, *note])


def _paired(runs: list[tuple[int, str, LoadResult]]) -> list[tuple[LoadResult, LoadResult]]:
    """(floor, ours) of each round: the two ran back to back, so a drift of the machine's speed
    over the bench hits both sides of a pair alike."""
    by_round: dict[int, dict[str, LoadResult]] = {}
    for round_no, name, result in runs:
        by_round.setdefault(round_no, {})[name] = result
    return [(r["floor"], r["ours"]) for _, r in sorted(by_round.items()) if len(r) == 2]


def _median(values: list[float]) -> float:
    return percentile(_measured(values), 50)


def _spread(values: list[float]) -> str:
    known = _measured(values)
    return f"rounds {min(known):.2f}-{max(known):.2f}" if known else "no round measured"


def _measured(values: list[float]) -> list[float]:
    return [v for v in values if not math.isnan(v)]


def _cpu_per_request_us(result: LoadResult) -> float:
    server = result.process_cpu_s.get("server", float("nan"))
    return server / result.summary.ok * 1e6 if result.summary.ok else float("nan")
