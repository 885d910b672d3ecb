"""Start a process's observability: traces, a /metrics port for services without an HTTP API,
and Sentry when `SENTRY_DSN` is set."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog
from prometheus_client import start_http_server

from shared.observability.errors import setup_sentry
from shared.observability.tracing import setup_tracing

if TYPE_CHECKING:
    from shared.platform.settings import Settings

__all__ = ["observe_process"]

log = structlog.get_logger("observability")
_serving: set[int] = set()


def observe_process(service: str, settings: Settings, *, serve_metrics: bool = True) -> None:
    """Idempotent per process: tests start several workers in one interpreter. The API serves
    /metrics on its own port (`serve_metrics=False`)."""
    setup_tracing(service, settings)
    setup_sentry(service, settings)
    port = settings.monitoring.metrics_port
    if (
        not serve_metrics
        or port is None
        or port in _serving
        or not settings.monitoring.metrics_collection
    ):
        return
    start_http_server(port, addr=settings.monitoring.metrics_host)
    _serving.add(port)
    log.info("metrics_serving", port=port, service=service)
