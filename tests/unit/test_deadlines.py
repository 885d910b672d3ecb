"""Approval deadlines as pure rules: the deadline, the step due now, the expiry action."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.domain.deadlines import DeadlinePolicy, deadline_of, due_mark, expiry_action
from shared.domain.models import Approval, ApprovalKind, ApprovalStatus

ASKED = datetime(2026, 1, 1, tzinfo=UTC)
POLICY = DeadlinePolicy(default_s=100.0, reminders=(0.9, 0.5))


def approval(kind: ApprovalKind = ApprovalKind.STORY_PROPOSAL, **fields: object) -> Approval:
    return Approval(
        id="approval-00000001",
        project_id="calc",
        kind=kind,
        subject_id="story-00000001",
        created_at=ASKED,
        **fields,
    )


def test_no_default_and_no_own_deadline_means_no_deadline() -> None:
    assert deadline_of(approval(), DeadlinePolicy()) is None
    assert due_mark(approval(), DeadlinePolicy(), ASKED + timedelta(days=365)) is None


def test_an_approvals_own_deadline_wins_over_the_default() -> None:
    own = ASKED + timedelta(seconds=10)
    assert deadline_of(approval(deadline_at=own), POLICY) == own


@pytest.mark.parametrize(
    ("seconds", "mark"),
    [
        (0, None),
        (49, None),
        (50, "remind-50"),
        (89, "remind-50"),
        (90, "remind-90"),
        (100, "expire"),
    ],
)
def test_the_latest_step_due_is_named(seconds: int, mark: str | None) -> None:
    assert due_mark(approval(), POLICY, ASKED + timedelta(seconds=seconds)) == mark


def test_a_decided_approval_has_nothing_due() -> None:
    decided = approval(status=ApprovalStatus.APPROVED)
    assert due_mark(decided, POLICY, ASKED + timedelta(days=1)) is None


@pytest.mark.parametrize(
    ("kind", "own", "action"),
    [
        (ApprovalKind.STORY_PROPOSAL, None, "reject"),
        (ApprovalKind.PHASE_RESULT, None, "reject"),
        (ApprovalKind.BLOCKED_TASK, None, "skip"),
        (ApprovalKind.BLOCKED_TASK, "none", "none"),
        (ApprovalKind.STORY_PROPOSAL, "skip", "none"),  # skipping does not apply to a proposal
        (ApprovalKind.SPRINT_REVIEW, None, "none"),
    ],
)
def test_the_expiry_action_follows_the_kind(
    kind: ApprovalKind, own: str | None, action: str
) -> None:
    assert expiry_action(approval(kind, expiry_action=own), POLICY) == action


def test_the_policy_can_switch_expiry_off() -> None:
    policy = DeadlinePolicy(default_s=1.0, approval_expiry="none", blocked_expiry="none")
    assert expiry_action(approval(), policy) == "none"
    assert expiry_action(approval(ApprovalKind.BLOCKED_TASK), policy) == "none"
