"""`uv run python -m loadtest.bench_api`: P1 read path, P2 scale, P3 contention, P7 memory.

Starts a private Valkey and one API process on loopback, runs the benchmarks, prints the
summary table and writes `loadtest/RESULTS_API.md` (`uv run python -m loadtest` runs every
bench and writes the combined `loadtest/RESULTS.md`). Bounded by `AWF_BENCH_BUDGET_S`; every
process it started is stopped on the way out, whatever happens. Exit status 0 even when a goal is
missed: this is a measurement, not a test (the verdicts are in the table).
"""

from __future__ import annotations

import asyncio
import sys
import time
from contextlib import AsyncExitStack, ExitStack

from redis.asyncio import Redis

from loadtest.config import BenchConfig
from loadtest.harness import (
    ServerProcess,
    admin_token,
    new_secret,
    private_redis,
    scratch_dir,
)
from loadtest.p1_read import run_p1
from loadtest.p2_scale import run_p2
from loadtest.p3_writers import run_p3
from loadtest.p7_api_memory import run_p7
from loadtest.report import machine_facts, render, summary_table
from loadtest.scenario import Bench, Section
from loadtest.seeding import Seeder
from shared.platform.redis import create_redis
from shared.state.store import Store

__all__ = ["main", "run"]


async def run(config: BenchConfig) -> tuple[str, list[Section]]:
    """Every benchmark, within the budget; returns the markdown report and the sections."""
    began = time.perf_counter()
    async with asyncio.timeout(config.budget_s):
        with ExitStack() as stack:
            workdir = stack.enter_context(scratch_dir())
            valkey = stack.enter_context(private_redis(workdir / "valkey"))
            if config.profile_dir:
                config.profile_dir.mkdir(parents=True, exist_ok=True)
            secret = new_secret()
            api = stack.enter_context(
                ServerProcess(
                    "services.api",
                    redis_url=valkey.url,
                    jwt_secret=secret,
                    workdir=workdir,
                    profile_to=config.profile_dir / "api.prof" if config.profile_dir else None,
                )
            )
            async with AsyncExitStack() as clients:
                redis = create_redis(valkey.url, client_name="awf.loadtest")
                clients.push_async_callback(redis.aclose)
                raw = Redis.from_url(valkey.url, client_name="awf.loadtest.raw")
                clients.push_async_callback(raw.aclose)
                store = Store(redis)
                await api.wait_ready()
                bench = Bench(
                    config=config,
                    redis_url=valkey.url,
                    redis_pid=valkey.pid or -1,
                    redis=redis,
                    raw=raw,
                    store=store,
                    seeder=Seeder(store),
                    api=api,
                    jwt_secret=secret,
                    auth={"authorization": f"Bearer {admin_token(secret)}"},
                )
                sections: list[Section] = []
                scenarios = (("P1", run_p1), ("P2", run_p2), ("P3", run_p3), ("P7", run_p7))
                for name, scenario in scenarios:
                    if name not in config.selected:
                        continue
                    step = time.perf_counter()
                    print(f"{name} ...", file=sys.stderr, flush=True)
                    sections.append(await scenario(bench))
                    print(f"{name} done in {time.perf_counter() - step:.1f} s", file=sys.stderr)
                facts = await machine_facts(redis)
    return render(config, sections, facts, time.perf_counter() - began), sections


def main() -> None:
    try:
        config = BenchConfig.from_env()
    except ValueError as exc:
        sys.exit(f"invalid benchmark settings: {exc}")
    try:
        report, sections = asyncio.run(run(config))
    except TimeoutError:
        sys.exit(f"the bench exceeded AWF_BENCH_BUDGET_S={config.budget_s:g} s and was stopped")
    print("\n".join(summary_table(sections)))
    config.results.write_text(report)
    print(f"\nfull report: {config.results}")


if __name__ == "__main__":
    main()
