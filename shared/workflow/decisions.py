"""Human decisions are acknowledged only once the AOF holds them (design: durability contract).

`execute` marks a decision inside its transaction and, after the commit, waits for WAITAOF
(`shared.state.aof`). When the fsync is not confirmed in time it raises `DecisionNotDurable`
(503 with Retry-After): the decision stays stored, and the same request with the same
idempotency key answers the first result once the fsync is confirmed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.platform.errors import AppError
from shared.state import aof

if TYPE_CHECKING:
    from shared.domain.commands import Command
    from shared.state.store import Store
    from shared.workflow.context import CommandOutcome

__all__ = ["DECISIONS", "RETRY_AFTER_S", "DecisionNotDurable", "acknowledge", "is_decision"]

# What a human decides: approvals, steering a blocked or running sprint, closing a review.
DECISIONS = frozenset(
    {
        "approve",
        "reject",
        "suggest_fix",
        "skip_task",
        "request_changes",
        "feedback",
        "sprint pause",
        "sprint resume",
        "tdd pause",
        "tdd resume",
        "tdd halt_all",
        "tdd abort",
        "tdd skip_phase",
    }
)
RETRY_AFTER_S = 1


class DecisionNotDurable(AppError):
    """Committed, but the server did not confirm its AOF fsync in time; `outcome` is the result
    (so a caller can still start its jobs: the decision is in Redis, only its fsync is unknown)."""

    status_code = 503
    error_type = "not_durable"

    def __init__(self, message: str, outcome: CommandOutcome) -> None:
        super().__init__(message, retry_after_s=RETRY_AFTER_S)
        self.outcome = outcome


def is_decision(command: Command) -> bool:
    return command.mutating and command.name in DECISIONS


async def acknowledge(
    store: Store, outcome: CommandOutcome, token: str, timeout_ms: int
) -> CommandOutcome:
    """`outcome` once WAITAOF confirms it (or AOF is off / unsupported); else DecisionNotDurable."""
    if outcome.project_id is None:  # decisions are project commands; nothing to wait for
        return outcome
    verdict = await aof.confirm(store.redis, outcome.project_id, token, timeout_ms)
    if verdict is not aof.Fsync.NOT_CONFIRMED:
        return outcome
    raise DecisionNotDurable(
        f"/{outcome.command} was recorded, but Redis did not confirm it reached the append-only "
        f"file within {timeout_ms} ms, so it is not acknowledged yet. Retry the same request "
        "(same Idempotency-Key): it will answer this decision's result once it is on disk.",
        outcome,
    )
