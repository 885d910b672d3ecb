"""Child processes: spawn one with its log file, probe readiness, find free ports; turn the
signals that should stop a foreground stack into an exception (so `finally` stops it)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

__all__ = [
    "ApiProcess",
    "Child",
    "Shutdown",
    "free_port",
    "free_port_block",
    "is_ready",
    "port_in_use",
    "spawn_api",
    "spawn_module",
    "stop_signals",
]


@dataclass
class ApiProcess:
    port: int
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no output)"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def free_port_block(count: int, host: str = "127.0.0.1", attempts: int = 50) -> int:
    """A first port such that ``count`` consecutive ports from it are free (for replicas)."""
    for _ in range(attempts):
        base = free_port(host)
        if base + count <= 65536 and not any(port_in_use(host, base + i) for i in range(1, count)):
            return base
    raise OSError(f"no block of {count} free ports found on {host}")


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return True
        return False


@dataclass
class Child:
    """Any of our service processes (worker, model server), with its log."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, lines: int = 30) -> str:
        return ApiProcess(0, "", self.process, self.log_path).log_tail(lines)


def spawn_module(
    module: str, env: dict[str, str], log_path: Path, *args: str
) -> subprocess.Popen[bytes]:
    """``python -m <module>`` in its own process group, stdout and stderr in ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        return subprocess.Popen(  # noqa: S603 - our own modules, fixed arguments
            [sys.executable, "-m", module, *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0,  # a terminal's Ctrl-C reaches `awf up`, which stops us in order
        )


def spawn_api(port: int, url: str, env: dict[str, str], log_path: Path) -> ApiProcess:
    return ApiProcess(port, url, spawn_module("services.api", env, log_path), log_path)


def is_ready(http: httpx.Client, url: str) -> bool:
    try:
        return http.get(f"{url}/readyz").status_code == 200
    except httpx.HTTPError:
        return False


class Shutdown(Exception):
    """SIGINT, SIGTERM or SIGHUP arrived: stop the stack."""


_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextmanager
def stop_signals() -> Iterator[None]:
    """Meanwhile SIGINT, SIGTERM and SIGHUP raise `Shutdown`; the old handlers come back after.
    Children run in their own process groups, so a terminal's Ctrl-C reaches only us."""
    previous = {sig: signal.signal(sig, _raise_shutdown) for sig in _STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _raise_shutdown(signum: int, frame: FrameType | None) -> None:
    raise Shutdown(signal.Signals(signum).name)
