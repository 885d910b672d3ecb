"""The agent tier of a local stack: arq worker processes, and the local scripted model when no
ANTHROPIC_API_KEY is set (so `awf demo` and `awf up` work on a machine with no keys)."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from services.cli.processes import Child, free_port, spawn_module

__all__ = ["AgentTier", "AgentTierError"]

_MODEL_MODULE = "shared.fakes.anthropic_server"
_WORKER_MODULE = "services.worker"


class AgentTierError(RuntimeError):
    """A worker or the local model did not start; the message carries its log tail."""


class AgentTier:
    def __init__(self, data_dir: Path, workers: int, *, ready_timeout: float = 20.0) -> None:
        self.data_dir, self.workers, self.ready_timeout = data_dir, workers, ready_timeout
        self.model: Child | None = None
        self.model_url: str | None = None
        self.children: list[Child] = []

    @staticmethod
    def needs_local_model(env: Mapping[str, str]) -> bool:
        return not env.get("ANTHROPIC_API_KEY") and not env.get("ANTHROPIC_BASE_URL")

    def start(self, env: dict[str, str]) -> None:
        """Start the local model if needed, then the workers; `env` is the stack's child env."""
        if self.workers <= 0:
            return
        worker_env = dict(env)
        if self.needs_local_model(env):
            worker_env["ANTHROPIC_BASE_URL"] = self._start_model(env)
        for n in range(self.workers):
            log = self.data_dir / "logs" / f"worker-{n}.log"
            process = spawn_module(_WORKER_MODULE, worker_env, log)
            self.children.append(Child(f"worker-{n}", process, log))
        self._check_alive()

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM every child (workers finish or hand back their phase), SIGKILL stragglers."""
        everyone = [*self.children, *([self.model] if self.model else [])]
        for child in everyone:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in everyone:
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()

    def dead(self) -> list[Child]:
        return [
            c
            for c in [*self.children, *([self.model] if self.model else [])]
            if c.process.poll() is not None
        ]

    @property
    def pids(self) -> dict[str, int]:
        found = {c.name: c.process.pid for c in self.children}
        if self.model:
            found["model"] = self.model.process.pid
        return found

    def _start_model(self, env: dict[str, str]) -> str:
        port = free_port()
        log = self.data_dir / "logs" / "model.log"
        process = spawn_module(_MODEL_MODULE, env, log, "--port", str(port))
        self.model = Child("model", process, log)
        self.model_url = f"http://127.0.0.1:{port}"
        self._wait_model(self.model, self.model_url)
        return self.model_url

    def _wait_model(self, model: Child, url: str) -> None:
        deadline = time.monotonic() + self.ready_timeout
        with httpx.Client(timeout=1.0) as http:
            while time.monotonic() < deadline:
                if model.process.poll() is not None:
                    raise AgentTierError(f"the local model exited:\n{model.log_tail()}")
                try:
                    probe = http.get(f"{url}/v1/models", headers={"x-api-key": "local"})
                    if probe.status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        raise AgentTierError(f"the local model was not ready in time:\n{model.log_tail()}")

    def _check_alive(self, settle_s: float = 0.5) -> None:
        time.sleep(settle_s)  # a worker with bad settings exits at once; catch that here
        for child in self.dead():
            raise AgentTierError(f"{child.name} exited at start:\n{child.log_tail()}")
