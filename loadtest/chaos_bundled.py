"""Chaos WORKER and GATEWAY: the kills the e2e tests and the Discord bench already make, run
here for their figures.

WORKER calls `stop_worker_mid_phase` of tests/e2e/worker_procs (what test_worker_orphans runs):
SIGKILL a worker while its phase waits on the model; another retakes the phase; the story must
still end with exactly one commit per phase. GATEWAY calls `run_failovers` of
loadtest/discord_failover (three gateway pods, the leader SIGKILLed); a duplicate event there is
a beacon from a deposed leader after its successor's first one (two leaders at once).
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from pathlib import Path

from loadtest.chaos_config import ChaosConfig
from loadtest.discord_failover import Failover, run_failovers
from loadtest.harness import private_redis
from shared.fakes.anthropic_server import FakeAnthropicServer
from shared.jobs.queue import create_queue
from shared.platform.redis import create_redis
from shared.state import keys
from shared.state.store import Store
from tests.e2e.worker_procs import PHASE_COMMITS, phase_commits, stop_worker_mid_phase

__all__ = ["GatewayKillResult", "WorkerKillResult", "run_gateway_kills", "run_worker_kill"]


@dataclass(frozen=True)
class WorkerKillResult:
    retaken_after_s: float
    commits: list[str]  # the story branch's phase commits, oldest first

    @property
    def duplicate_commits(self) -> int:
        return len(self.commits) - len(set(self.commits))

    @property
    def commits_as_expected(self) -> bool:
        return self.commits == PHASE_COMMITS


@dataclass(frozen=True)
class GatewayKillResult:
    failovers: list[Failover]
    overlapping_beacons: int  # beacons of a lower fencing token after a higher one


async def run_worker_kill(config: ChaosConfig, workdir: Path) -> WorkerKillResult:
    with private_redis(workdir / "redis") as server, FakeAnthropicServer() as model:
        redis = create_redis(server.url, "chaos-worker")
        queue = await create_queue(server.url)
        try:
            retake = await stop_worker_mid_phase(
                server.url,
                Store(redis),
                queue,
                model,
                workdir,
                signal.SIGKILL,
                review_timeout_s=config.sprint_timeout_s,
            )
        finally:
            await queue.aclose()
            await redis.aclose()
    return WorkerKillResult(retake.retaken_after_s, phase_commits(retake.repo, retake.story_id))


async def run_gateway_kills(config: ChaosConfig, workdir: Path) -> GatewayKillResult:
    with private_redis(workdir / "redis") as server:
        redis = create_redis(server.url, "chaos-gateway")
        try:
            failovers = await run_failovers(redis, server.url, workdir, kills=config.gateway_kills)
            beacons = await redis.xrange(keys.GATEWAY_BEACON)
        finally:
            await redis.aclose()
    tokens = [int(fields["token"]) for _, fields in beacons]
    overlapping = sum(1 for n, t in enumerate(tokens) if n and t < max(tokens[:n]))
    return GatewayKillResult(failovers, overlapping)
