"""Every Prometheus metric, in one place so names and labels stay consistent across services.

Each pod runs one process, so the default registry is the pod's. Per-pod values (requests, jobs,
tokens) are counters and histograms; cluster-wide values (queue depth, active sprints, the lease
holder) are gauges refreshed from Redis at scrape time by `cluster.refresh`, the same on every
replica: aggregate them with `max`, not `sum`.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = [
    "ACTIVE_SPRINTS",
    "AGENT_COST",
    "AGENT_EXECUTION",
    "AGENT_TOKENS",
    "CLUSTER",
    "DISCORD_COMMANDS",
    "GATEWAY_LEADER",
    "HTTP_DURATION",
    "HTTP_REQUESTS",
    "JOBS",
    "JOBS_RUNNING",
    "JOB_DURATION",
    "LEASE_HELD",
    "MODEL_CALLS",
    "QUEUE_DEPTH",
]

_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_SLOW = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 2700.0)

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds", "HTTP request time", ["method", "route"], buckets=_FAST
)
DISCORD_COMMANDS = Counter(
    "discord_commands_total", "Discord commands handled", ["command", "status"]
)
AGENT_EXECUTION = Histogram(
    "agent_execution_seconds",
    "One agent's run (all its model turns and tools)",
    ["agent_type"],
    buckets=_SLOW,
)
AGENT_TOKENS = Counter("agent_tokens_total", "Model tokens used by agents", ["agent_type", "kind"])
AGENT_COST = Counter("agent_cost_usd_total", "Model cost of agent work in USD", ["agent_type"])
MODEL_CALLS = Counter("anthropic_requests_total", "Calls to the model API", ["status"])
JOBS = Counter("jobs_total", "Worker jobs finished", ["function", "status"])
JOB_DURATION = Histogram("job_duration_seconds", "Worker job time", ["function"], buckets=_SLOW)
JOBS_RUNNING = Gauge("jobs_running", "Jobs running in this worker now", ["function"])
# Only the API serves these (its /metrics adds this registry); in the default registry every
# worker and gateway pod would export them as a constant 0.
CLUSTER = CollectorRegistry(auto_describe=True)
QUEUE_DEPTH = Gauge("arq_queue_depth", "Jobs waiting in the queue, cluster-wide", registry=CLUSTER)
ACTIVE_SPRINTS = Gauge("active_sprints_total", "Sprints running, cluster-wide", registry=CLUSTER)
LEASE_HELD = Gauge(
    "gateway_lease_held",
    "1 while some gateway pod holds the leader lease, cluster-wide",
    registry=CLUSTER,
)
GATEWAY_LEADER = Gauge("gateway_leader", "1 while this gateway pod is the leader")
