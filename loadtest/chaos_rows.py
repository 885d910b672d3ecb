"""One summary row per figure of each chaos scenario: what was measured against what is required."""

from __future__ import annotations

import math
from dataclasses import dataclass

from loadtest.chaos_api import ApiKillResult
from loadtest.chaos_bundled import GatewayKillResult, WorkerKillResult
from loadtest.chaos_http import Kind
from loadtest.chaos_redis import RedisKillResult
from loadtest.discord_failover import failover_stats
from loadtest.stats import percentile

__all__ = ["Row", "api_rows", "gateway_rows", "redis_rows", "worker_rows"]

RETAKE_BOUND_S = 30.0
FAILOVER_BOUND_MS = 10_000.0


@dataclass(frozen=True)
class Row:
    scenario: str
    measurement: str
    value: str
    requirement: str = "-"
    met: bool | None = None  # None: a figure, no requirement

    def cells(self) -> list[str]:
        verdict = "info" if self.met is None else ("pass" if self.met else "**miss**")
        return [self.scenario, self.measurement, self.value, self.requirement, verdict]


def _s(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds:.2f} s"


def _ms(samples: list[float]) -> str:
    if not samples:
        return "n/a"
    return f"{percentile(samples, 50):.0f} / {percentile(samples, 95):.0f} ms"


def _broken(errors: dict[str, int]) -> str:
    return ", ".join(f"{name}: {n}" for name, n in sorted(errors.items())) or "none"


def redis_rows(r: RedisKillResult) -> list[Row]:
    j, counts = r.journal, r.journal.tally.counts
    worker = "the same process (it rode out the outage)"
    if r.worker_restarts:
        first = r.worker_restarts[0]
        worker = (
            f"restarted by its supervisor: it exited (code {first.code}) "
            f"{_s(first.exited_at - r.kill_at)} after the kill"
        )
    rows = [
        ("acknowledged decisions lost", f"{r.decisions_lost} of {len(j.decisions)}", "0",
         r.decisions_lost == 0),
        ("latency p50 / p95: decisions (WAITAOF) vs plain writes",
         f"{_ms(j.decision_ms)} vs {_ms(j.write_ms)}", "measured", None),
        ("acknowledged plain writes lost", f"{r.writes_lost} of {len(j.writes)}", "measured", None),
        ("… of those acknowledged in the last 1 s before the kill",
         f"{r.writes_lost_in_window} of {r.writes_in_window}", "measured", None),
        ("oldest lost write, before the kill", _s(r.oldest_lost_s) if r.writes_lost else "none",
         "measured", None),
        ("Valkey start to PONG (AOF loaded)", f"{_s(r.restart_s)} ({r.aof_bytes / 1024:.0f} KiB AOF)",
         "-", None),
        ("API answering 2xx again, from Valkey's start", _s(r.api_back_after_restart_s), "-", None),
        ("answers during the outage: 5xx / cut off / not_durable 503",
         f"{counts[Kind.SERVER_ERROR]} / {counts[Kind.IN_FLIGHT]} / {j.not_durable} "
         f"({_broken(j.tally.server_errors)})", "-", None),
        ("worker polling Redis again, from Valkey's start",
         f"{_s(r.worker_back_after_restart_s)}: {worker}", "-", None),
        ("sprint reached its review, from Valkey's start",
         _s(r.sprint_done_after_restart_s) if r.sprint_state == "SPRINT_REVIEW"
         else f"no (still {r.sprint_state})", "yes", r.sprint_state == "SPRINT_REVIEW"),
    ]  # fmt: skip
    return [Row("REDIS", *row) for row in rows]


def api_rows(r: ApiKillResult) -> list[Row]:
    counts = r.tally.counts
    rows = [
        ("requests (ok / 4xx / 5xx)",
         f"{r.tally.total:,} ({counts[Kind.OK]:,} / {counts[Kind.REFUSED]} / {counts[Kind.SERVER_ERROR]})",
         "-", None),
        ("5xx answers", str(counts[Kind.SERVER_ERROR]), "0", counts[Kind.SERVER_ERROR] == 0),
        ("answers lost in flight / requests in flight on the victim at the kill",
         f"{r.in_flight_failed} / {r.in_flight_at_kill}", "≤ in flight",
         r.in_flight_failed <= r.in_flight_at_kill),
        ("sent after the kill on a kept-alive connection to it (retried with the key)",
         str(r.stale_connections), "-", None),
        ("connects refused, sent to the other replica", f"{r.not_sent:,}", "-", None),
        ("acknowledged writes lost", f"{r.lost_updates} of {r.acked_writes:,}", "0",
         r.lost_updates == 0),
        ("writes acknowledged after an in-flight retry (same Idempotency-Key)",
         str(r.retried_writes), "-", None),
        ("two writes answered with one version", str(r.duplicate_versions), "0",
         r.duplicate_versions == 0),
        ("timeline versions contiguous, each once", "yes" if r.versions_contiguous else "no",
         "yes", r.versions_contiguous),
    ]  # fmt: skip
    return [Row("API", *row) for row in rows]


def worker_rows(r: WorkerKillResult) -> list[Row]:
    return [
        Row("WORKER", "phase retaken after SIGKILL", _s(r.retaken_after_s),
            f"≤ {RETAKE_BOUND_S:.0f} s", r.retaken_after_s <= RETAKE_BOUND_S),
        Row("WORKER", "phase commits on the story branch", ", ".join(r.commits) or "none",
            "one per phase", r.commits_as_expected),
        Row("WORKER", "duplicate commits", str(r.duplicate_commits), "0",
            r.duplicate_commits == 0),
    ]  # fmt: skip


def gateway_rows(r: GatewayKillResult) -> list[Row]:
    stats = failover_stats([f.gap_ms for f in r.failovers])
    return [
        Row("GATEWAY", f"failover, max of {stats.count} leader SIGKILLs", f"{stats.max_ms:,.0f} ms",
            f"≤ {FAILOVER_BOUND_MS:,.0f} ms", stats.max_ms <= FAILOVER_BOUND_MS),
        Row("GATEWAY", "failover, median", f"{stats.median_ms:,.0f} ms"),
        Row("GATEWAY", "beacons of a deposed leader after its successor's (duplicate events)",
            str(r.overlapping_beacons), "0", r.overlapping_beacons == 0),
    ]  # fmt: skip
