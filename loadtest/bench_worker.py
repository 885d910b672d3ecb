"""`uv run python -m loadtest.bench_worker`: P4 job pickup, P5 phase overhead, P6 idle memory.

Starts a private Valkey and the fake Anthropic server (a process) on loopback, runs the worker
benchmarks against floors measured in the same run, prints the summary table and writes
`loadtest/RESULTS_WORKER.md`. Bounded by `AWF_WBENCH_BUDGET_S`; every process it started is
stopped on the way out, by its own pid. Exit status 0 even when a goal is missed: this is a
measurement, not a test (the verdicts are in the table).
"""

from __future__ import annotations

import asyncio
import sys
import time
from contextlib import AsyncExitStack, ExitStack

import httpx

from loadtest.harness import HOST, free_port, private_redis, scratch_dir
from loadtest.p4_pickup import run_p4
from loadtest.p5_phases import run_p5
from loadtest.p6_memory import run_p6
from loadtest.report import summary_table
from loadtest.scenario import Section
from loadtest.worker_config import WorkerBenchConfig
from loadtest.worker_procs import ChildProcess, child_env, wait_until
from loadtest.worker_report import render, worker_facts
from loadtest.worker_scenario import WorkerBench
from shared.platform.logging import configure_logging
from shared.platform.redis import create_redis

__all__ = ["main", "run"]

_ORDER = (("P6", run_p6), ("P4", run_p4), ("P5", run_p5))  # P5 uses P4's bare pickup as a floor


async def _model_ready(client: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(f"{url}/_fake/stats")).status_code == 200
    except httpx.HTTPError:
        return False


async def run(config: WorkerBenchConfig) -> tuple[str, list[Section]]:
    """Every selected benchmark, within the budget; the markdown report and the sections."""
    began = time.perf_counter()
    configure_logging("WARNING", "json", "wbench")  # the in-process P5 worker: errors only
    async with asyncio.timeout(config.budget_s):
        with ExitStack() as stack:
            workdir = stack.enter_context(scratch_dir())
            valkey = stack.enter_context(private_redis(workdir / "valkey"))
            port = free_port()
            model = ChildProcess(
                "fake-anthropic",
                "shared.fakes.anthropic_server",
                *("--host", HOST, "--port", str(port)),
                env=child_env(workdir),
                workdir=workdir,
            )
            stack.enter_context(model)
            model_url = f"http://{HOST}:{port}"
            async with httpx.AsyncClient(timeout=1.0) as http:
                await wait_until(lambda: _model_ready(http, model_url), model)
            async with AsyncExitStack() as clients:
                redis = create_redis(valkey.url, client_name="awf.wbench")
                clients.push_async_callback(redis.aclose)
                bench = WorkerBench(config, workdir, valkey.url, valkey.pid or -1, redis, model_url)
                sections = await _run_selected(bench)
                facts = await worker_facts(redis)
    return render(config, sections, facts, time.perf_counter() - began), sections


async def _run_selected(bench: WorkerBench) -> list[Section]:
    sections: list[Section] = []
    for name, scenario in _ORDER:
        if name not in bench.config.selected:
            continue
        step = time.perf_counter()
        print(f"{name} ...", file=sys.stderr, flush=True)
        sections.append(await scenario(bench))
        print(f"{name} done in {time.perf_counter() - step:.1f} s", file=sys.stderr)
    return sorted(sections, key=lambda s: s.title)


def main() -> None:
    try:
        config = WorkerBenchConfig.from_env()
    except ValueError as exc:
        sys.exit(f"invalid benchmark settings: {exc}")
    try:
        report, sections = asyncio.run(run(config))
    except TimeoutError:
        sys.exit(f"the bench exceeded AWF_WBENCH_BUDGET_S={config.budget_s:g} s and was stopped")
    print("\n".join(summary_table(sections)))
    config.results.write_text(report)
    print(f"\nfull report: {config.results}")


if __name__ == "__main__":
    main()
