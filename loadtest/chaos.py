"""`uv run python -m loadtest.chaos`: the chaos suite, bounded, on 127.0.0.1 only.

REDIS kills Valkey (AOF everysec) mid-sprint and restarts it; API kills one of two API replicas
under load; WORKER kills a worker mid-phase; GATEWAY kills the gateway leader. Each scenario runs
in its own scratch directory with its own processes, all stopped on the way out; the whole suite
is cancelled after `AWF_CHAOS_BUDGET_S`. Prints the summary and writes loadtest/RESULTS_CHAOS.md
(or `AWF_CHAOS_RESULTS`). Exit status 1 when a requirement was missed or a scenario failed.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path

from loadtest.chaos_api import run_api_kill
from loadtest.chaos_bundled import run_gateway_kills, run_worker_kill
from loadtest.chaos_config import ChaosConfig
from loadtest.chaos_redis import run_redis_kill
from loadtest.chaos_report import render
from loadtest.chaos_rows import Row, api_rows, gateway_rows, redis_rows, worker_rows

__all__ = ["main", "run_suite"]

Scenario = Callable[[ChaosConfig, Path], Awaitable[list[Row]]]


async def _redis(config: ChaosConfig, workdir: Path) -> list[Row]:
    return redis_rows(await run_redis_kill(config, workdir))


async def _api(config: ChaosConfig, workdir: Path) -> list[Row]:
    return api_rows(await run_api_kill(config, workdir))


async def _worker(config: ChaosConfig, workdir: Path) -> list[Row]:
    return worker_rows(await run_worker_kill(config, workdir))


async def _gateway(config: ChaosConfig, workdir: Path) -> list[Row]:
    return gateway_rows(await run_gateway_kills(config, workdir))


SCENARIO_RUNS: dict[str, Scenario] = {
    "REDIS": _redis,
    "API": _api,
    "WORKER": _worker,
    "GATEWAY": _gateway,
}


async def run_suite(config: ChaosConfig) -> tuple[list[Row], dict[str, float]]:
    """Every selected scenario; a failed one becomes a row saying why. Seconds per scenario."""
    rows: list[Row] = []
    walls: dict[str, float] = {}
    async with asyncio.timeout(config.budget_s):
        for name in config.selected:
            print(f"chaos {name} ...", file=sys.stderr, flush=True)
            began = time.monotonic()
            rows += await _one(name, config)
            walls[name] = time.monotonic() - began
            print(f"chaos {name} done in {walls[name]:.0f} s", file=sys.stderr, flush=True)
    return rows, walls


async def _one(name: str, config: ChaosConfig) -> list[Row]:
    with tempfile.TemporaryDirectory(prefix=f"awf-chaos-{name.lower()}-") as path:
        try:
            return await SCENARIO_RUNS[name](config, Path(path))
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            return [
                Row(name, "scenario failed", f"{type(exc).__name__}: {exc}"[:300], "runs", False)
            ]


def main() -> int:
    config = ChaosConfig.from_env()
    began = time.monotonic()
    rows, walls = asyncio.run(run_suite(config))
    report = render(config, rows, walls, time.monotonic() - began)
    config.results.write_text(report)
    print(report.split("\n## ", 1)[0])
    print(f"written to {config.results}", file=sys.stderr)
    return 1 if any(row.met is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
