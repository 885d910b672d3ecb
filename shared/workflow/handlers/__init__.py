"""Mutating command handlers, keyed by command name. Each runs inside the project transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from shared.workflow.handlers import approvals, backlog, context, epics, review, sprints, tdd

__all__ = ["HANDLERS", "Handler"]

Handler = Callable[..., Awaitable[dict[str, Any]]]

HANDLERS: dict[str, Handler] = {
    "epic": epics.epic,
    "approve": approvals.approve,
    "reject": approvals.reject,
    "backlog add_story": backlog.add_story,
    "backlog remove": backlog.remove,
    "backlog prioritize": backlog.prioritize,
    "sprint plan": sprints.plan,
    "sprint start": sprints.start,
    "sprint pause": sprints.pause,
    "sprint resume": sprints.resume,
    "request_changes": review.request_changes,
    "suggest_fix": review.suggest_fix,
    "skip_task": review.skip_task,
    "feedback": review.feedback,
    "tdd start": tdd.start,
    "tdd pause": tdd.pause,
    "tdd resume": tdd.resume,
    "tdd halt_all": tdd.halt_all,
    "tdd abort": tdd.abort,
    "tdd skip_phase": tdd.skip_phase,
    "tdd run_tests": tdd.run_tests,
    "context optimize": context.optimize,
    "context clear_cache": context.clear_cache,
}
