"""Gateway failover: three `python -m services.gateway` pods, the leader SIGKILLed again and again.

The pods run the heartbeat duty with the default lease settings. The leader appends (owner,
token) to the beacon stream once a second; entry ids are Redis time in ms, and each kill is
timed with Redis TIME just before the signal, so every gap is measured on one clock (as in
tests/e2e/test_gateway_failover.py). After each kill a fresh pod replaces the dead one, so every
failover starts from three pods: one leader and two standbys.
"""

from __future__ import annotations

import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from loadtest.harness import REPO_ROOT
from shared.platform.settings import Settings
from shared.state import keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = [
    "Failover",
    "FailoverStats",
    "failover_stats",
    "owner_pid",
    "run_failovers",
]

_CLEARED = {name.upper() for name in Settings.model_fields}
_CLEARED_PREFIXES = ("AWF_", *(f"{name.upper()}__" for name in Settings.model_fields))


@dataclass(frozen=True)
class Beat:
    at_ms: int
    owner: str
    token: int


@dataclass(frozen=True)
class Failover:
    killed_pid: int
    new_pid: int
    gap_ms: int  # Redis time from just before SIGKILL to the new leader's first beacon
    new_token: int


@dataclass(frozen=True)
class FailoverStats:
    count: int
    max_ms: float
    median_ms: float
    min_ms: float


def failover_stats(gaps_ms: Sequence[float]) -> FailoverStats:
    """Count, max, median and min of the gaps; NaN for none."""
    if not gaps_ms:
        nan = float("nan")
        return FailoverStats(0, nan, nan, nan)
    return FailoverStats(
        len(gaps_ms), float(max(gaps_ms)), float(statistics.median(gaps_ms)), float(min(gaps_ms))
    )


def owner_pid(owner: str) -> int:
    """The pid in a gateway owner id `host:pid:suffix` (the host name may hold colons)."""
    return int(owner.rsplit(":", 2)[-2])


class _Pod:
    def __init__(self, redis_url: str, workdir: Path, name: str) -> None:
        config = workdir / "gateway-config.yml"
        config.write_text("{}\n")
        self.log = workdir / f"{name}.log"
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in _CLEARED and not k.startswith(_CLEARED_PREFIXES)
        }
        env |= {
            "AWF_ENV": "test",
            "AWF_CONFIG": str(config),
            "REDIS_URL": redis_url,
            "GATEWAY__DUTY": "heartbeat",  # lease TTL, poll and heartbeat: the defaults
            "LOGGING__FORMAT": "json",
            "PYTHONUNBUFFERED": "1",
        }
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "services.gateway"],
                cwd=REPO_ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    async def wait_started(self, timeout_s: float = 20.0) -> None:
        """Until the pod stands by or leads (its election loop is running)."""
        deadline = time.monotonic() + timeout_s
        while not any(n in self.log_text() for n in ('"standing_by"', '"lease_acquired"')):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gateway pod did not start:\n{self.log_text()[-2000:]}")
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


async def _beats(redis: Redis, since_ms: int = 0) -> list[Beat]:
    entries = await redis.xrange(keys.GATEWAY_BEACON, min=f"{since_ms}-0")
    return [
        Beat(int(entry_id.split("-")[0]), fields["owner"], int(fields["token"]))
        for entry_id, fields in entries
    ]


async def _redis_now_ms(redis: Redis) -> int:
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def _current_leader(redis: Redis, timeout_s: float) -> Beat:
    """The latest beat, once it is fresh (written within the last 2 heartbeats)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = await _redis_now_ms(redis)
        history = await _beats(redis, now - 2_000)
        if history:
            return history[-1]
        await asyncio.sleep(0.05)
    raise RuntimeError(f"no leader wrote a beacon within {timeout_s} s")


async def _first_beat_of_another(redis: Redis, since_ms: int, old: str, timeout_s: float) -> Beat:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        fresh = [beat for beat in await _beats(redis, since_ms) if beat.owner != old]
        if fresh:
            return fresh[0]
        await asyncio.sleep(0.02)
    raise RuntimeError(f"no new leader wrote within {timeout_s} s of the kill")


async def run_failovers(
    redis: Redis, redis_url: str, workdir: Path, kills: int = 5, timeout_s: float = 30.0
) -> list[Failover]:
    """SIGKILL the leader `kills` times; a fresh pod replaces each dead one before the next."""
    pods: dict[int, _Pod] = {}
    started = 0

    async def start_pod() -> None:
        nonlocal started
        pod = _Pod(redis_url, workdir, f"gateway-{started}")
        started += 1
        pods[pod.process.pid] = pod
        await pod.wait_started()

    try:
        for _ in range(3):
            await start_pod()
        results: list[Failover] = []
        for n in range(kills):
            leader = await _current_leader(redis, timeout_s)
            victim = pods[owner_pid(leader.owner)]
            sent_ms = await _redis_now_ms(redis)
            victim.process.send_signal(signal.SIGKILL)
            successor = await _first_beat_of_another(redis, sent_ms, leader.owner, timeout_s)
            victim.process.wait(5)
            del pods[victim.process.pid]
            failover = Failover(
                victim.process.pid,
                owner_pid(successor.owner),
                successor.at_ms - sent_ms,
                successor.token,
            )
            results.append(failover)
            print(
                f"kill {n + 1}: pid {failover.killed_pid} -> {failover.new_pid} "
                f"in {failover.gap_ms} ms",
                file=sys.stderr,
                flush=True,
            )
            await start_pod()
        return results
    finally:
        for pod in pods.values():
            pod.stop()
