"""`python -m services.api`: one uvicorn process (scale with replicas, not --workers).

SIGTERM drains it: uvicorn stops accepting, gives in-flight requests ``api.drain_timeout_s``,
runs the lifespan shutdown, and the process exits 0.
"""

from __future__ import annotations

import gc
import signal
import sys
from types import FrameType

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from services.api.app import create_app
from shared.platform.logging import configure_service_logging
from shared.platform.settings import format_settings_error, load_settings


def main() -> None:
    try:
        settings = load_settings()
    except ValidationError as exc:
        sys.exit(f"Invalid settings:\n{format_settings_error(exc)}")
    configure_service_logging(settings, "api")
    try:
        app = create_app(settings)
    except RuntimeError as exc:
        sys.exit(str(exc))
    _freeze_startup_objects()
    _exit_cleanly_after_drain()
    config = uvicorn.Config(
        app,
        host=settings.api.host,
        port=settings.api.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=settings.api.drain_timeout_s,
    )
    _DrainingServer(config, app).run()


class _DrainingServer(uvicorn.Server):
    """uvicorn's server; on SIGTERM/SIGINT it also ends the board's event streams, which
    would otherwise keep their connections, and the drain, open until its timeout."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        begin_drain = getattr(self._app.state, "begin_drain", None)
        if begin_drain is not None:
            begin_drain()
        super().handle_exit(sig, frame)


def _freeze_startup_objects() -> None:
    """Keep the ~100k objects made at startup (modules, models, routes) out of later GC passes.

    They live as long as the process, yet every full collection, which steady traffic keeps
    triggering, would walk them all again: ~50 ms each on a 2-core box. See `gc.freeze`.
    """
    gc.collect()
    gc.freeze()


def _exit_cleanly_after_drain() -> None:
    """uvicorn handles SIGTERM itself, then raises it again once drained: end with 0 then."""

    def drained(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, drained)


if __name__ == "__main__":
    main()
