"""API replicas as real processes: `python -m services.api` (uvicorn) on a loopback port with a
private config file and only the settings a test names (a developer's own are cleared)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from shared.platform.settings import Settings

__all__ = [
    "REPO_ROOT",
    "Replica",
    "clean_env",
    "free_port",
    "replica_env",
    "start_replica",
    "stop_all",
    "wait_ready",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
# the developer's own settings must not leak into the replicas (Settings forbids unknown keys)
_CLEARED = {name.upper() for name in Settings.model_fields}
_CLEARED_PREFIXES = ("AWF_", *(f"{name.upper()}__" for name in Settings.model_fields))
_READY_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 15.0


@dataclass
class Replica:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> int:
        """SIGTERM, then wait for a graceful exit; the exit code (killed after a timeout)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                raise AssertionError(
                    f"{self.url} ignored SIGTERM for {_STOP_TIMEOUT_S}s\n{self.log_tail()}"
                ) from None
        return self.process.returncode


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def clean_env() -> dict[str, str]:
    """This process' environment without any awf setting (a developer's own)."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in _CLEARED and not k.startswith(_CLEARED_PREFIXES)
    }


def replica_env(redis_url: str, secret: str, port: int, config: Path) -> dict[str, str]:
    return clean_env() | {
        "AWF_ENV": "test",
        "AWF_CONFIG": str(config),
        "JWT_SECRET": secret,
        "REDIS_URL": redis_url,
        "API__HOST": "127.0.0.1",
        "API__PORT": str(port),
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }


def start_replica(
    redis_url: str, secret: str, workdir: Path, name: str, config_text: str = "{}\n"
) -> Replica:
    """`python -m services.api` on a free loopback port; `config_text` is its config.yml."""
    config = workdir / f"{name}.yml"
    config.write_text(config_text)
    port = free_port()
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.api"],
            cwd=REPO_ROOT,
            env=replica_env(redis_url, secret, port, config),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Replica(f"http://127.0.0.1:{port}", process, log)


def wait_ready(replica: Replica) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if replica.process.poll() is not None:
            raise AssertionError(f"{replica.url} exited early:\n{replica.log_tail()}")
        try:
            if httpx.get(f"{replica.url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"{replica.url} not ready in {_READY_TIMEOUT_S}s:\n{replica.log_tail()}")


def stop_all(replicas: list[Replica]) -> None:
    """SIGTERM every replica and check each shut down gracefully: the lifespan finished (so the
    Redis pool was closed), the exit code is 0 and nothing was logged as an error."""
    codes = {r.url: r.stop() for r in replicas}
    for replica in replicas:
        log = replica.log.read_text(errors="replace")
        assert codes[replica.url] == 0, (codes, replica.log_tail())
        assert "Application shutdown complete." in log, replica.log_tail()
        assert "Traceback" not in log, replica.log_tail()
        assert '"level": "error"' not in log, replica.log_tail()
