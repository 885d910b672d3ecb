"""The processes of the Redis-kill scenario: Valkey (AOF everysec, fixed port), one API replica,
the scripted model and one worker under a supervisor that restarts it when it exits (what
Kubernetes' restartPolicy or systemd's Restart=always do), recording each exit and restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from loadtest.chaos_valkey import ChaosValkey
from loadtest.harness import ServerProcess, free_port, new_secret
from loadtest.worker_procs import ChildProcess, child_env, wait_until

__all__ = ["ChaosStack", "Restart", "chaos_stack"]

_WORKER_CONFIG = "agents: {max_turns: 12, test_timeout_s: 60}\n"
_CONNECTED = "redis_version="  # arq logs the server's INFO once its pool is connected
_BACK = '"redis_reachable_again"'  # services.worker.outage, when the same process polls again


@dataclass(frozen=True)
class Restart:
    exited_at: float  # time.monotonic()
    code: int | None
    connected_after_s: float  # from this restart until the new worker's pool connected


@dataclass
class ChaosStack:
    valkey: ChaosValkey
    api: ServerProcess
    worker: ChildProcess
    secret: str
    restarts: list[Restart] = field(default_factory=list)

    async def supervise(self) -> None:
        """Restart the worker whenever it exits; runs until cancelled."""
        while True:
            await asyncio.sleep(0.2)
            if self.worker.alive():
                continue
            exited_at = time.monotonic()
            code = self.worker.exit_code()
            self.worker.start()
            connected = await _connected(self.worker)
            self.restarts.append(Restart(exited_at, code, connected))

    async def worker_back(self, timeout_s: float = 120.0) -> float:
        """When (time.monotonic()) a worker polled Redis again after the outage: the same process
        (it logs so) or one the supervisor restarted (its pool connected); NaN after timeout_s."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.restarts:
                restart = self.restarts[-1]
                return restart.exited_at + restart.connected_after_s
            if _BACK in self.worker.log_tail(400):
                return time.monotonic()
            await asyncio.sleep(0.05)
        return float("nan")


async def _connected(worker: ChildProcess, timeout_s: float = 60.0) -> float:
    async def logged() -> bool:
        return _CONNECTED in worker.log_tail(400)

    try:
        return await wait_until(logged, worker, timeout_s)
    except RuntimeError:
        return float("nan")  # it exited again: the supervisor's next round restarts it


@contextlib.asynccontextmanager
async def chaos_stack(workdir: Path) -> AsyncIterator[ChaosStack]:
    valkey = ChaosValkey(workdir / "redis", free_port())
    valkey.start()
    secret = new_secret()
    api = ServerProcess("services.api", redis_url=valkey.url, jwt_secret=secret, workdir=workdir)
    (workdir / "config.yml").write_text(_WORKER_CONFIG)
    model_port = free_port()
    model = ChildProcess(
        "model", "shared.fakes.anthropic_server", "--port", str(model_port),
        env=child_env(workdir), workdir=workdir,
    )  # fmt: skip
    env = child_env(
        workdir, REDIS_URL=valkey.url, ANTHROPIC_BASE_URL=f"http://127.0.0.1:{model_port}"
    )
    worker = ChildProcess("worker", "services.worker", env=env, workdir=workdir)
    try:
        api.start()
        model.start()
        await api.wait_ready(60)
        await wait_until(lambda: _model_ready(model_port), model, 60)
        worker.start()
        await _connected(worker)
        yield ChaosStack(valkey, api, worker, secret)
    finally:
        worker.stop()
        model.stop()
        api.stop()
        valkey.stop()


async def _model_ready(port: int) -> bool:
    try:
        async with httpx.AsyncClient(timeout=1.0) as http:
            probe = await http.get(f"http://127.0.0.1:{port}/v1/models", headers={"x-api-key": "k"})
            return probe.status_code == 200
    except httpx.HTTPError:
        return False
