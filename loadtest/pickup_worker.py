"""`python -m loadtest.pickup_worker ours|bare`: a worker process running one trivial job.

`ours` is our worker exactly as `python -m services.worker` builds it (settings from the
environment, logging, `build_worker_settings`: JSON serializer, poll delay, max_jobs, abort
polling, health key, startup deps, the reconcile cron), with its job functions replaced by
`record_start`, registered the way `run_phase` is (wrapped in `observed`, which opens the job's
span and counts it, then `func(..., timeout, keep_result=60)`).

`bare` is a stock arq `Worker` with `record_start` as its only function and arq's defaults
(pickle serializer, no logging set up), except `poll_delay`, which both take from
`AWF_WBENCH_POLL_DELAY_S` so neither side wins by polling more often.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from arq import func
from arq.connections import RedisSettings
from arq.worker import run_worker

__all__ = ["JOB_NAME", "POLL_DELAY_ENV", "main", "record_start"]

JOB_NAME = "record_start"
POLL_DELAY_ENV = "AWF_WBENCH_POLL_DELAY_S"


async def record_start(ctx: dict[str, Any], key: str, n: int) -> None:
    """The job: note when it started (the clock is read first), in a hash the bench reads back."""
    started = time.time()
    await ctx["redis"].hset(key, str(n), repr(started))


def _poll_delay() -> float:
    return float(os.environ.get(POLL_DELAY_ENV, "0.05"))


def run_ours() -> None:
    from services.worker.main import build_worker_settings
    from services.worker.observed import observed
    from shared.platform.logging import configure_logging
    from shared.platform.settings import load_settings

    settings = load_settings()
    configure_logging(settings.logging.level, settings.logging.format, "worker")
    ours = build_worker_settings(settings)
    job = func(observed(JOB_NAME, record_start), name=JOB_NAME, timeout=60, keep_result=60)
    run_worker(ours, functions=[job], poll_delay=_poll_delay())


def run_bare() -> None:
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")
    settings = {
        "functions": [record_start],
        "redis_settings": RedisSettings.from_dsn(redis_url),
        "poll_delay": _poll_delay(),
    }
    run_worker(settings)


def main(argv: list[str] | None = None) -> None:
    variant = (argv if argv is not None else sys.argv[1:])[:1]
    if variant == ["ours"]:
        run_ours()
    elif variant == ["bare"]:
        run_bare()
    else:
        sys.exit("usage: python -m loadtest.pickup_worker ours|bare")


if __name__ == "__main__":
    main()
