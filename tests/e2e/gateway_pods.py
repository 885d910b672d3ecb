"""Gateway pods as real processes: `python -m services.gateway` with a private config file and
only the settings a test names in its environment (a developer's own are cleared)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from shared.platform.settings import Settings

__all__ = ["REPO_ROOT", "Pod", "pod_env", "pod_of", "start_pod", "stop_all", "wait_for_log"]

REPO_ROOT = Path(__file__).resolve().parents[2]
_CLEARED = {name.upper() for name in Settings.model_fields}
_CLEARED_PREFIXES = ("AWF_", *(f"{name.upper()}__" for name in Settings.model_fields))


@dataclass
class Pod:
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def signal(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)


def pod_env(redis_url: str, config: Path, extra: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _CLEARED and not k.startswith(_CLEARED_PREFIXES)
    }
    return env | {
        "AWF_ENV": "test",
        "AWF_CONFIG": str(config),
        "REDIS_URL": redis_url,
        "LOGGING__FORMAT": "json",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def start_pod(redis_url: str, config: Path, log: Path, extra: dict[str, str]) -> Pod:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.gateway"],
            cwd=REPO_ROOT,
            env=pod_env(redis_url, config, extra),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return Pod(process, log)


async def wait_for_log(pod: Pod, *needles: str, timeout: float = 15.0) -> None:
    """Until the pod logged any of ``needles``."""
    deadline = time.monotonic() + timeout
    while not any(needle in pod.log_text() for needle in needles):
        assert pod.process.poll() is None, pod.log_text()
        assert time.monotonic() < deadline, f"{needles} not logged:\n{pod.log_text()}"
        await asyncio.sleep(0.05)


def pod_of(pods: list[Pod], owner: str) -> Pod:
    """The pod whose lease owner id (``host:pid:suffix``) is ``owner``."""
    pid = int(owner.rsplit(":", 2)[-2])
    return next(pod for pod in pods if pod.process.pid == pid)


def stop_all(pods: list[Pod]) -> None:
    for pod in pods:
        if pod.process.poll() is None:
            pod.signal(signal.SIGCONT)
            pod.signal(signal.SIGTERM)
    for pod in pods:
        try:
            pod.process.wait(10)
        except subprocess.TimeoutExpired:
            pod.process.kill()
            pod.process.wait()
