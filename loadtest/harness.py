"""Processes: a private Valkey and one-process uvicorn servers on loopback, and their CPU time.

Everything listens on 127.0.0.1 only, and every process started here is stopped in a `finally`
(context managers), by its own pid. The load itself is `loadtest.driver`.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from shared.domain.commands import Role
from shared.platform.auth import mint_token
from shared.platform.embedded_redis import EmbeddedRedis

__all__ = [
    "HOST",
    "REPO_ROOT",
    "ServerProcess",
    "admin_token",
    "cpu_seconds",
    "free_port",
    "machine_busy_cpu_s",
    "machine_busy_ticks",
    "new_secret",
    "private_redis",
    "process_ticks",
    "scratch_dir",
]

HOST = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_SETTING_PREFIXES = (  # settings of the services: the child gets ours, not the caller's
    "AWF_",
    "API__",
    "REDIS_URL",
    "JWT_SECRET",
    "LOG_LEVEL",
    "LOGGING__",
    "ORCHESTRATOR__",
    "ENCRYPTION_KEY",
    "MONITORING__",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def process_ticks(stat: str) -> int:
    """utime + stime, in clock ticks, from the text of /proc/<pid>/stat (proc(5))."""
    after_name = stat.rsplit(")", 1)[1].split()  # the name may hold spaces and parentheses
    return int(after_name[11]) + int(after_name[12])  # fields 14 and 15 of proc(5)


def machine_busy_ticks(proc_stat: str) -> int:
    """Busy clock ticks of all cores from the `cpu` line of /proc/stat (idle and iowait excluded)."""
    first = proc_stat.splitlines()[0].split()
    if first[0] != "cpu":
        raise ValueError(f"not the aggregate cpu line of /proc/stat: {first[0]!r}")
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in first[1:9])
    return user + nice + system + irq + softirq + steal


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux /proc); NaN when it cannot be read."""
    try:
        return process_ticks(Path(f"/proc/{pid}/stat").read_text()) / _CLK_TCK
    except OSError:
        return float("nan")


def machine_busy_cpu_s() -> float:
    """CPU seconds every core of the machine spent busy since boot (/proc/stat, idle excluded)."""
    try:
        return machine_busy_ticks(Path("/proc/stat").read_text()) / _CLK_TCK
    except OSError:
        return float("nan")


def admin_token(secret: str) -> str:
    return mint_token(secret, "loadtest", Role.ADMIN, timedelta(hours=1))


@contextmanager
def scratch_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="awf-bench-") as path:
        yield Path(path)


@contextmanager
def private_redis(data_dir: Path) -> Iterator[EmbeddedRedis]:
    """A valkey-server of our own, without persistence, stopped whatever happens."""
    server = EmbeddedRedis(data_dir, appendonly=False)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class ServerProcess:
    """`python -m <module>` as one uvicorn process on a free loopback port.

    The module reads the API's settings from the environment (REDIS_URL, JWT_SECRET, API__HOST,
    API__PORT, AWF_ENV), exactly as `python -m services.api` does in production.
    """

    def __init__(
        self,
        module: str,
        *,
        redis_url: str,
        jwt_secret: str,
        workdir: Path,
        profile_to: Path | None = None,
    ) -> None:
        self.module = module
        self.port = free_port()
        self.workdir = workdir
        self.log_path = workdir / f"{module.replace('.', '_')}-{self.port}.log"
        self._env = _server_env(redis_url, jwt_secret, self.port, workdir)
        self._profile_to = profile_to
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError(f"{self.module} is not running")
        return self._process.pid

    def start(self) -> None:
        command = [sys.executable]
        if self._profile_to is not None:
            command += ["-m", "cProfile", "-o", str(self._profile_to)]
        command += ["-m", self.module]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command,
                cwd=REPO_ROOT,
                env=self._env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def wait_ready(self, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(base_url=self.base_url, timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self._process is not None and self._process.poll() is not None:
                    break
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"{self.module} did not become ready:\n{self.log_tail()}")

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM (SIGINT under cProfile, so it writes its file), then SIGKILL after a wait.

        uvicorn shuts down gracefully on either, then re-raises the signal; only SIGINT becomes
        an exception that lets cProfile's `finally` dump the stats.
        """
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT if self._profile_to else signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _server_env(redis_url: str, jwt_secret: str, port: int, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_SETTING_PREFIXES)}
    config = workdir / "config.yml"  # an empty file: a developer's ./config.yml is not read
    config.write_text("{}\n")
    env.update(
        AWF_ENV="test",
        AWF_CONFIG=str(config),
        JWT_SECRET=jwt_secret,
        REDIS_URL=redis_url,
        API__HOST=HOST,
        API__PORT=str(port),
        PYTHONUNBUFFERED="1",
    )
    return env


def new_secret() -> str:
    return secrets.token_urlsafe(48)
