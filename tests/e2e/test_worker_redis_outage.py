"""A worker rides out a Redis restart: SIGKILL Valkey (AOF everysec) under a running
`python -m services.worker`, start it again on the same port a few seconds later, and the same
worker process goes on polling (it used to exit 1 and wait for its supervisor)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from loadtest.chaos_valkey import ChaosValkey
from loadtest.harness import free_port
from loadtest.worker_procs import ChildProcess, child_env

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(120)]

DOWN_S = 3.0


async def logged(worker: ChildProcess, text: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in worker.log_tail(2_000):
        assert worker.alive(), f"the worker exited ({worker.exit_code()}):\n{worker.log_tail()}"
        assert time.monotonic() < deadline, f"no {text} within {timeout_s} s:\n{worker.log_tail()}"
        await asyncio.sleep(0.1)


async def test_a_worker_survives_a_redis_restart(tmp_path: Path) -> None:
    valkey = ChaosValkey(tmp_path / "redis", free_port())
    valkey.start()
    env = child_env(tmp_path, REDIS_URL=valkey.url, ANTHROPIC_BASE_URL="http://127.0.0.1:9")
    worker = ChildProcess("worker", "services.worker", env=env, workdir=tmp_path)
    try:
        worker.start()
        await logged(worker, "redis_version=", timeout_s=60)
        valkey.kill()
        await logged(worker, '"redis_unreachable"', timeout_s=10)
        await asyncio.sleep(DOWN_S)
        valkey.start()
        await logged(worker, '"redis_reachable_again"', timeout_s=15)
        await asyncio.sleep(1.0)
        assert worker.alive()
    finally:
        worker.stop()
        valkey.stop()
