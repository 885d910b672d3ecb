"""Child processes of the worker bench (workers, the fake model) and what /proc says about them.

Every child gets a clean environment of our own (no developer settings), listens or connects on
127.0.0.1 only, writes its output to a log file in the scratch directory, and is stopped by its
own pid: SIGTERM, then SIGKILL after a wait.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

from loadtest.harness import REPO_ROOT
from shared.platform.settings import Settings

__all__ = [
    "ChildProcess",
    "Memory",
    "child_env",
    "is_setting",
    "parse_kb_field",
    "read_memory",
    "wait_until",
]

_SETTINGS = tuple(name.upper() for name in Settings.model_fields)


def is_setting(variable: str) -> bool:
    """A variable our settings read: a field (`REDIS_URL`), a section's (`AGENTS__...`), `AWF_*`."""
    name = variable.upper()
    return name.startswith("AWF_") or any(
        name == field or name.startswith(f"{field}__") for field in _SETTINGS
    )


def child_env(workdir: Path, **extra: str) -> dict[str, str]:
    """Our environment minus every service setting, an empty config file, AWF_ENV=test, `extra`."""
    env = {k: v for k, v in os.environ.items() if not is_setting(k)}
    config = workdir / "config.yml"
    if not config.exists():
        config.write_text("{}\n")
    env.update(AWF_ENV="test", AWF_CONFIG=str(config), PYTHONUNBUFFERED="1", **extra)
    return env


class ChildProcess:
    """`python -m <module> <args>` with its output in `<workdir>/<name>.log`."""

    def __init__(self, name: str, module: str, *args: str, env: dict[str, str], workdir: Path):
        self.name = name
        self.argv = [sys.executable, "-m", module, *args]
        self.env = env
        self.log_path = workdir / f"{name}.log"
        self._process: subprocess.Popen[bytes] | None = None
        self.started_at = float("nan")  # time.monotonic() of the last start

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self._process.pid

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def exit_code(self) -> int | None:
        """The last run's exit status (negative: the signal), None while it runs."""
        return self._process.poll() if self._process is not None else None

    def start(self) -> None:
        self.started_at = time.monotonic()
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                self.argv,
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self, timeout_s: float = 15.0) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def log_tail(self, lines: int = 15) -> str:
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


async def wait_until(
    what: Callable[[], Awaitable[bool]], child: ChildProcess, timeout_s: float = 30.0
) -> float:
    """Poll `what` every 20 ms; seconds from the child's start until it held. RuntimeError if the
    child dies or `timeout_s` passes first."""
    began = time.monotonic()
    while not await what():
        if not child.alive():
            raise RuntimeError(f"{child.name} exited:\n{child.log_tail()}")
        if time.monotonic() - began > timeout_s:
            raise RuntimeError(f"{child.name} not ready after {timeout_s:g} s:\n{child.log_tail()}")
        await asyncio.sleep(0.02)
    return time.monotonic() - child.started_at


@dataclass(frozen=True)
class Memory:
    """Resident set (VmRSS) and proportional set (Pss, NaN when unavailable), in MiB."""

    rss_mib: float
    pss_mib: float


def parse_kb_field(text: str, field: str) -> float:
    """The value of a `Field:   1234 kB` line of /proc status or smaps_rollup, in MiB; NaN if absent."""
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name.strip() == field:
            parts = rest.split()
            if parts and parts[0].isdigit() and parts[1:2] == ["kB"]:
                return int(parts[0]) / 1024
    return float("nan")


def read_memory(pid: int) -> Memory:
    rss = parse_kb_field(_read(f"/proc/{pid}/status"), "VmRSS")
    pss = parse_kb_field(_read(f"/proc/{pid}/smaps_rollup"), "Pss")
    return Memory(rss, pss)


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""
