"""Pure: when an approval is due, which reminder (or the expiry) is due now, and what expiry does.

An approval's deadline is its own ``deadline_at``, else ``created_at`` plus the configured
default (none by default: approvals wait for a human forever). Reminders fire at fractions of
the time between asking and the deadline; after a pause only the latest one due is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from shared.domain.models import Approval, ApprovalKind, ApprovalStatus

__all__ = ["EXPIRE", "DeadlinePolicy", "ExpiryAction", "deadline_of", "due_mark", "expiry_action"]

ExpiryAction = Literal["reject", "skip", "none"]
EXPIRE = "expire"
_APPLIES: dict[ApprovalKind, ExpiryAction] = {
    ApprovalKind.STORY_PROPOSAL: "reject",
    ApprovalKind.PHASE_RESULT: "reject",
    ApprovalKind.BLOCKED_TASK: "skip",
}


@dataclass(frozen=True)
class DeadlinePolicy:
    default_s: float | None = None
    reminders: tuple[float, ...] = (0.5, 0.9)
    approval_expiry: Literal["reject", "none"] = "reject"
    blocked_expiry: Literal["skip", "none"] = "skip"


def deadline_of(approval: Approval, policy: DeadlinePolicy) -> datetime | None:
    if approval.deadline_at is not None:
        return approval.deadline_at
    if policy.default_s is None:
        return None
    return approval.created_at + timedelta(seconds=policy.default_s)


def due_mark(approval: Approval, policy: DeadlinePolicy, now: datetime) -> str | None:
    """``"expire"``, ``"remind-<percent>"`` for the latest reminder due, or None."""
    deadline = deadline_of(approval, policy)
    if deadline is None or approval.status is not ApprovalStatus.PENDING:
        return None
    if now >= deadline:
        return EXPIRE
    span = (deadline - approval.created_at).total_seconds()
    elapsed = (now - approval.created_at).total_seconds()
    passed = [f for f in sorted(policy.reminders) if span > 0 and elapsed >= f * span]
    return f"remind-{round(passed[-1] * 100)}" if passed else None


def expiry_action(approval: Approval, policy: DeadlinePolicy) -> ExpiryAction:
    """What the expiry does: the approval's own choice, else the policy's for its kind; an
    action that does not apply to the kind (skipping a proposal) does nothing."""
    applicable = _APPLIES.get(approval.kind, "none")
    chosen: ExpiryAction = approval.expiry_action or (
        policy.blocked_expiry
        if approval.kind is ApprovalKind.BLOCKED_TASK
        else policy.approval_expiry
    )
    return chosen if chosen == applicable else "none"
