"""The scale-out bench's parts: the round-robin proxy on loopback, /proc CPU accounting, the
run order, the journeys' requests, settings and the section's arithmetic. No timed assertions."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from loadtest.driver import LoadResult
from loadtest.harness import HOST, free_port, machine_busy_ticks, process_ticks
from loadtest.lb_proxy import RoundRobin, serve
from loadtest.scale_config import ScaleConfig
from loadtest.scale_report import cpu_use, pool_runs, scale_section
from loadtest.scaleout import ScaleRun, count_order, scale_request_factory
from loadtest.stats import summarize

# /proc/<pid>/stat of a process whose name holds a space and a parenthesis; utime 250, stime 50
PROC_STAT = (
    "4242 (python -m (x)) S 1 4242 4242 0 -1 4194304 1200 0 0 0 250 50 0 0 20 0 3 0 "
    "9000 100000000 5000 18446744073709551615 1 1 0 0 0 0 0 16781312 16386 0 0 0 17 1 0 0 0 0 0"
)
MACHINE_STAT = "cpu  100 5 40 9000 30 2 3 7 0 0\ncpu0 50 2 20 4500 15 1 1 3 0 0\n"


def test_process_ticks_reads_utime_plus_stime_after_an_awkward_name() -> None:
    assert process_ticks(PROC_STAT) == 300


def test_machine_busy_ticks_leaves_out_idle_and_iowait() -> None:
    assert machine_busy_ticks(MACHINE_STAT) == 100 + 5 + 40 + 2 + 3 + 7


def test_machine_busy_ticks_wants_the_aggregate_line() -> None:
    with pytest.raises(ValueError, match="aggregate"):
        machine_busy_ticks("cpu0 1 2 3 4 5 6 7 8\n")


def result(ok: int, wall_s: float, generator: float, procs: dict[str, float]) -> LoadResult:
    return LoadResult(
        summary=summarize([0.01] * ok, ok, 0, wall_s),
        statuses=Counter({200: ok}),
        exceptions=Counter(),
        generator_cpu_s=generator,
        process_cpu_s=procs,
        machine_cpu_s=generator + sum(procs.values()) + 1.0,
        latencies_s=[0.01] * ok,
    )


def test_cpu_use_is_cores_per_process_with_replicas_in_order() -> None:
    procs = {"replica 10": 0.5, "replica 2": 4.0, "redis": 0.4, "proxy": 1.0, "replica 1": 8.0}
    use = cpu_use(result(100, 10.0, 2.0, procs))
    assert use.replicas == (0.8, 0.4, 0.05)
    assert (use.generator, use.proxy, use.valkey) == (0.2, 0.1, 0.04)
    assert use.other == pytest.approx(0.1)
    assert use.busy == pytest.approx(0.2 + 1.39 + 0.1)


def test_cpu_use_without_a_proxy_shows_a_dash() -> None:
    use = cpu_use(result(10, 1.0, 0.1, {"replica 1": 0.5, "redis": 0.1}))
    assert math.isnan(use.proxy)
    assert use.cells()[1] == "-"


def test_count_order_alternates_up_and_down() -> None:
    assert list(count_order(3, 2)) == [(1, 1), (1, 2), (1, 3), (2, 3), (2, 2), (2, 1)]


def test_read_journey_reads_one_project_and_mix_writes_one_in_k() -> None:
    read = scale_request_factory("read", projects=6, write_every=5)
    assert {read(w, n).path for w in range(8) for n in range(20)} == {"/api/v1/projects/scale-0"}
    mix = scale_request_factory("mix", projects=6, write_every=5)
    specs = [mix(7, n) for n in range(10)]
    assert [s.method for s in specs].count("POST") == 2
    assert specs[4].path == "/api/v1/projects/scale-1/commands"
    assert specs[0].path == "/api/v1/projects/scale-1"


def test_scale_config_reads_variables_and_refuses_unknown_modes() -> None:
    config = ScaleConfig.from_env({"AWF_SCALE_REQUESTS": "1_000", "AWF_SCALE_MODES": "direct"})
    assert (config.max_requests, config.selected_modes) == (1000, ("direct",))
    with pytest.raises(ValueError, match="AWF_SCALE_MODES"):
        ScaleConfig.from_env({"AWF_SCALE_MODES": "nginx"})
    with pytest.raises(ValueError, match="AWF_SCALE_DURATION_S"):
        ScaleConfig.from_env({"AWF_SCALE_DURATION_S": "0"})


def test_section_gives_each_count_its_ratio_to_one_replica() -> None:
    config = ScaleConfig(journeys="read", modes="direct", replicas=2, rounds=2)
    runs = [
        ScaleRun("read", "direct", n, r, result(ok, 1.0, 0.1, {"replica 1": 0.5, "replica 2": 0.3}))
        for r, n, ok in ((1, 1, 100), (1, 2, 170), (2, 2, 150), (2, 1, 100))
    ]
    assert pool_runs(runs)[("read", "direct", 2)].summary.ok == 320
    section = scale_section(config, runs, cores=2)
    assert section.rows[0].ratio == pytest.approx(1.6)  # (170 + 150) / 2 s vs 200 / 2 s
    assert "2 cores" in section.rows[1].floor


def test_round_robin_takes_backends_in_turn() -> None:
    balancer = RoundRobin([8001, 8002])
    assert [balancer.pick() for _ in range(5)] == [8001, 8002, 8001, 8002, 8001]
    assert balancer.counts == {8001: 3, 8002: 2}
    with pytest.raises(ValueError, match="backend"):
        RoundRobin([])


async def _named_server(name: bytes) -> asyncio.Server:
    """Answers each line with `<name>:<line>` on the same connection until it closes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            writer.write(name + b":" + line)
            await writer.drain()
        writer.close()

    return await asyncio.start_server(handle, HOST, 0)


def _port(server: asyncio.Server) -> int:
    port: int = server.sockets[0].getsockname()[1]
    return port


@pytest.fixture
async def proxied() -> AsyncIterator[int]:
    """A proxy over two real servers on loopback; yields its port."""
    a, b = await _named_server(b"A"), await _named_server(b"B")
    port, stop = free_port(), asyncio.Event()
    task = asyncio.create_task(serve(port, [_port(a), _port(b)], stop))
    await _until_accepting(port)
    yield port
    stop.set()
    async with asyncio.timeout(5):
        await task
    for server in (a, b):
        server.close()
        await server.wait_closed()


async def _until_accepting(port: int) -> None:
    async with asyncio.timeout(5):
        while True:
            try:
                _, writer = await asyncio.open_connection(HOST, port)
            except OSError:
                await asyncio.sleep(0.01)
                continue
            writer.close()
            return


async def test_proxy_pairs_connections_with_backends_round_robin(proxied: int) -> None:
    async with asyncio.timeout(10):
        answers = []
        streams = [await asyncio.open_connection(HOST, proxied) for _ in range(4)]
        for n, (reader, writer) in enumerate(streams):
            writer.write(f"hello {n}\n".encode())
            answers.append(await reader.readline())
        reader, writer = streams[0]  # keep-alive: the same connection stays on its backend
        writer.write(b"again\n")
        answers.append(await reader.readline())
        for _, writer in streams:
            writer.close()
    # the fixture's readiness probe took the first turn (backend A), so this starts at B
    assert answers == [b"B:hello 0\n", b"A:hello 1\n", b"B:hello 2\n", b"A:hello 3\n", b"B:again\n"]
