"""`python -m services.api`: one uvicorn process (scale with replicas, not --workers)."""

from __future__ import annotations

import sys

import uvicorn
from pydantic import ValidationError

from services.api.app import create_app
from shared.platform.logging import configure_logging
from shared.platform.settings import format_settings_error, load_settings


def main() -> None:
    try:
        settings = load_settings()
    except ValidationError as exc:
        sys.exit(f"Invalid settings:\n{format_settings_error(exc)}")
    configure_logging(settings.logging.level, settings.logging.format, "api")
    try:
        app = create_app(settings)
    except RuntimeError as exc:
        sys.exit(str(exc))
    uvicorn.run(
        app,
        host=settings.api.host,
        port=settings.api.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
