"""`python -m services.worker`: one arq worker process (scale with replicas). SIGTERM drains it
(services.worker.drain): no new jobs, running phases handed to another worker, exit 0."""

from __future__ import annotations

import sys

from pydantic import ValidationError

from services.worker.drain import create_draining_worker
from services.worker.main import build_worker_settings
from shared.platform.logging import configure_service_logging
from shared.platform.settings import format_settings_error, load_settings


def main() -> None:
    try:
        settings = load_settings()
    except ValidationError as exc:
        sys.exit(f"Invalid settings:\n{format_settings_error(exc)}")
    if not settings.redis_url:
        sys.exit(
            "REDIS_URL is not set: workers share the API's Redis. Start everything with "
            "`awf up`, or set REDIS_URL."
        )
    configure_service_logging(settings, "worker")
    create_draining_worker(build_worker_settings(settings)).run()


if __name__ == "__main__":
    main()
