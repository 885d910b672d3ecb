"""A worker's graceful stop on SIGTERM/SIGINT.

The worker takes no more jobs. A running agent phase hands itself to another worker at once
(``services.worker.jobs.phase``): phases run for minutes, so waiting for one would outlast any
grace period, and killing it would leave it to the orphan timeout. A phase already committing
its result finishes instead (its push cannot be taken back). Every other job gets
``orchestrator.drain_timeout_s`` to end before arq cancels it and another worker reruns it.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from arq.worker import Worker

from services.worker.outage import OutageTolerantWorker

__all__ = ["DRAIN", "create_draining_worker", "draining", "start_draining"]

DRAIN = "drain"  # the worker context's key of the drain flag (an asyncio.Event)
_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def draining(ctx: dict[str, Any]) -> asyncio.Event:
    """A job's view of its worker's drain flag; a worker built without one never drains."""
    flag = ctx.get(DRAIN)
    return flag if isinstance(flag, asyncio.Event) else asyncio.Event()


def start_draining(worker: Worker, signum: signal.Signals) -> None:
    """Stop picking jobs (and cancel what is left after the drain timeout), then set the flag.

    In this order: a phase handed over must not be picked up again by this worker."""
    worker.handle_sig_wait_for_completion(signum)
    flag = worker.ctx.get(DRAIN)
    if isinstance(flag, asyncio.Event):
        flag.set()


def create_draining_worker(settings_cls: type, *, handle_signals: bool = True) -> Worker:
    """An arq worker whose SIGTERM/SIGINT drain it as above (``handle_signals=False``: only
    ``start_draining`` does, for in-process tests)."""
    worker = OutageTolerantWorker.from_settings(
        settings_cls, ctx={DRAIN: asyncio.Event()}, handle_signals=handle_signals
    )
    if handle_signals:  # in place of arq's handlers
        for signum in _SIGNALS:
            worker.loop.add_signal_handler(signum, start_draining, worker, signum)
    return worker
