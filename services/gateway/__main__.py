"""`python -m services.gateway`: one gateway pod. Every pod contends for the gateway lease; the
holder runs the duty (``gateway.duty``), the rest stand by. SIGTERM/SIGINT hand over at once."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import sys

import structlog
from pydantic import ValidationError

from services.gateway.duties import build_duty
from services.gateway.leader import DutyStopFailed, Leader, LeaderTiming
from shared.observability.serve import observe_process
from shared.platform.logging import configure_service_logging
from shared.platform.redis import create_redis
from shared.platform.settings import Settings, format_settings_error, load_settings
from shared.state import keys
from shared.state.lease import Lease

log = structlog.get_logger("gateway.main")


def owner_id() -> str:
    """Unique per process: the pod name (hostname), the pid, and a random suffix for pid reuse."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _shutdown_on_signals() -> asyncio.Event:
    shutdown = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, shutdown.set)
    return shutdown


async def serve(settings: Settings, redis_url: str) -> None:
    owner = owner_id()
    redis = create_redis(redis_url, f"awf.gateway.{owner.replace(':', '.')}")
    gateway = settings.gateway
    lease = Lease(redis, keys.GATEWAY_LEASE, int(gateway.lease_ttl_s * 1000))
    leader = Leader(lease, owner, build_duty(settings, redis), LeaderTiming.from_settings(gateway))
    try:
        await leader.run(_shutdown_on_signals())
    finally:
        await redis.aclose()
    log.info("gateway_stopped", owner=owner)


def main() -> None:
    try:
        settings = load_settings()
    except ValidationError as exc:
        sys.exit(f"Invalid settings:\n{format_settings_error(exc)}")
    if not settings.redis_url:
        sys.exit("REDIS_URL is not set: gateway pods elect their leader in the shared Redis.")
    configure_service_logging(settings, "gateway")
    observe_process("gateway", settings)
    try:
        asyncio.run(serve(settings, settings.redis_url))
    except DutyStopFailed as exc:
        log.critical("duty_stop_failed", error=str(exc))
        sys.exit(1)  # the process dies with the stuck duty; the lease expires on its own


if __name__ == "__main__":
    main()
