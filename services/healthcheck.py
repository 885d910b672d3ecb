"""``python -m services.healthcheck [api|worker|gateway]``: exit 0 when this container's service is
healthy, 1 (with the reason) when not. Docker's HEALTHCHECK and the Kubernetes exec probes run it.

- api: ``GET /livez`` on the local port (``--ready``: ``/readyz``, which also pings Redis).
- worker: the arq worker refreshes ``arq:queue:health-check:<hostname>`` every
  ``monitoring.health_check_interval`` seconds (10) and it lives twice that; the key exists only
  while this pod's worker loop is running.
- gateway: every gateway process (leader or standby) keeps a Redis connection named
  ``awf.gateway.<hostname>.<pid>.<suffix>`` busy (lease renewals or standby polls every few
  seconds); the pod is healthy while such a connection has been idle for at most
  ``--max-idle`` seconds. A hung event loop or a lost Redis shows up as a stale or missing
  connection. Needs ``CLIENT LIST`` (allowed for the default user; grant it under Redis ACLs).

With no service named, the service is found from the running processes (``-m services.<name>``),
so the image's one HEALTHCHECK fits whichever service the container runs.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import cast

from redis import Redis
from redis.exceptions import RedisError

from shared.state import keys

__all__ = [
    "DEFAULT_MAX_IDLE_S",
    "GATEWAY_CLIENT_PREFIX",
    "check_api",
    "check_gateway",
    "check_worker",
    "detect_service",
    "gateway_client_name",
    "gateway_client_prefix",
    "main",
    "min_idle_s",
    "probe_url",
    "worker_health_key",
]

_SERVICES = ("api", "worker", "gateway")
_TIMEOUT_S = 3.0
DEFAULT_MAX_IDLE_S = 30
GATEWAY_CLIENT_PREFIX = "awf.gateway."  # + the process' owner id, ':' as '.' (services.gateway)


def worker_host() -> str:
    """The pod name in the worker's health key (services.worker.main)."""
    return os.environ.get("HOSTNAME") or socket.gethostname()


def worker_health_key(host: str) -> str:
    """The per-pod key arq refreshes (``health_check_key`` in services.worker.main)."""
    return f"{keys.ARQ_QUEUE}:health-check:{host}"


def gateway_client_prefix(host: str) -> str:
    """Client names of a gateway process on ``host`` (its owner id in services.gateway)."""
    return f"{GATEWAY_CLIENT_PREFIX}{host}."


def gateway_client_name(owner: str) -> str:
    """The client name of the gateway process whose owner id (the lease holder) is ``owner``."""
    return GATEWAY_CLIENT_PREFIX + owner.replace(":", ".")


def probe_url(url: str, timeout_s: float = _TIMEOUT_S) -> str | None:
    """None when ``url`` answers 200, else the reason."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 - an http(s) url of ours
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        return f"{url}: {exc}"
    return None if status == 200 else f"{url} answered {status}"


def check_api(port: int, path: str = "/livez") -> str | None:
    """None when ``path`` answers 200 on the local port, else the reason."""
    return probe_url(f"http://127.0.0.1:{port}{path}")


def check_worker(redis: Redis, host: str) -> str | None:
    key = worker_health_key(host)
    if cast("int", redis.exists(key)):  # sync client: an int
        return None
    return (
        f"{key} is missing: the worker on {host} has not refreshed it for two "
        "monitoring.health_check_interval periods"
    )


def min_idle_s(clients: Iterable[Mapping[str, object]], prefix: str) -> int | None:
    """Seconds since the most recent use of a connection whose name starts with ``prefix``
    (``CLIENT LIST`` entries); None when there is no such connection."""
    idles = [
        int(str(c.get("idle", 0))) for c in clients if str(c.get("name", "")).startswith(prefix)
    ]
    return min(idles) if idles else None


def check_gateway(
    clients: Iterable[Mapping[str, object]], host: str, max_idle_s: int
) -> str | None:
    """None when a connection of a gateway process on ``host`` was used within ``max_idle_s``."""
    prefix = gateway_client_prefix(host)
    idle = min_idle_s(clients, prefix)
    if idle is None:
        return f"no Redis connection named {prefix}*: the gateway on {host} is not connected"
    if idle > max_idle_s:
        return f"the gateway on {host} has not used Redis for {idle} s (> {max_idle_s} s)"
    return None


def detect_service(proc: Path = Path("/proc")) -> str | None:
    """The service a process of this container runs (``-m services.<name>``), if any."""
    for cmdline in proc.glob("[0-9]*/cmdline"):
        try:
            argv = cmdline.read_bytes().split(b"\0")
        except OSError:  # the process ended meanwhile
            continue
        for name in _SERVICES:
            if f"services.{name}".encode() in argv:
                return name
    return None


def _redis(url: str | None) -> Redis:
    if not url:
        raise SystemExit("REDIS_URL is not set")
    client: Redis = Redis.from_url(
        url, socket_timeout=_TIMEOUT_S, socket_connect_timeout=_TIMEOUT_S, decode_responses=True
    )
    return client


def _check(args: argparse.Namespace, service: str) -> str | None:
    if service == "api":
        port = int(os.environ.get("API__PORT", "8000"))
        return check_api(port, "/readyz" if args.ready else "/livez")
    redis = _redis(os.environ.get("REDIS_URL"))
    try:
        if service == "worker":
            return check_worker(redis, worker_host())
        clients = cast("list[dict[str, object]]", redis.client_list())  # sync client: a list
        return check_gateway(clients, socket.gethostname(), args.max_idle)
    except RedisError as exc:
        return f"Redis: {exc}"
    finally:
        redis.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.healthcheck", description=__doc__)
    parser.add_argument("service", nargs="?", choices=_SERVICES)
    parser.add_argument("--ready", action="store_true", help="api: probe /readyz, not /livez")
    parser.add_argument(
        "--max-idle", type=int, default=DEFAULT_MAX_IDLE_S, help="gateway: seconds (default 30)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    service = args.service or detect_service()
    if service is None:
        sys.exit("no service named and none found running (-m services.api|worker|gateway)")
    problem = _check(args, service)
    if problem:
        sys.exit(f"unhealthy {service}: {problem}")
    sys.stdout.write(f"healthy {service}\n")


if __name__ == "__main__":
    main()
