"""Timeline events as Discord messages: where they go, what they say, and Discord's limits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.gateway.discord import wire
from services.gateway.discord.notices import NoticeContext, notices_for
from services.gateway.discord.ratelimit import throttle_of
from shared.domain.models import Approval, ApprovalKind, ApprovalStatus
from shared.state.timeline import TimelineEvent

PID = "calc"
LINK = "http://api.test/api/v1/projects/calc/timeline"


def event(command: str, **payload: Any) -> TimelineEvent:
    return TimelineEvent(id="1-0", actor="system", command=command, payload=payload)


def proposal(n: int) -> Approval:
    story_id = f"story-{n:08x}"
    return Approval(
        id=f"approval-{n:08x}",
        project_id=PID,
        kind=ApprovalKind.STORY_PROPOSAL,
        subject_id=story_id,
        summary=f"Story {n}",
    )


def test_tool_calls_and_unknown_events_post_nothing() -> None:
    ctx = NoticeContext(PID)
    assert notices_for(event("tool", tool="read_file", story_id="story-1"), ctx) == []
    assert notices_for(event("backlog add_story"), ctx) == []


def test_a_long_refusal_is_cut_to_discords_limit_and_keeps_its_link() -> None:
    refused = event("phase refused", story_id="story-1", phase="code_green", reason="x" * 5_000)
    [notice] = notices_for(refused, NoticeContext(PID, tool_calls=7, link=LINK))
    content = notice.body["content"]
    assert notice.story_id == "story-1"
    assert len(content) <= wire.MAX_CONTENT
    assert content.endswith(f"…\n[full log](<{LINK}>)")
    assert notice.body["allowed_mentions"] == {"parse": []}


def test_proposals_carry_at_most_five_button_rows_per_message() -> None:
    approvals = [proposal(n) for n in range(12)]
    ids = [a.subject_id for a in approvals]
    ctx = NoticeContext(PID, story_approvals={a.subject_id: a for a in approvals})
    notices = notices_for(event("epic", result={"proposed_story_ids": ids}), ctx)
    assert [len(n.body["components"]) for n in notices] == [5, 5, 2]
    assert all(n.story_id is None for n in notices)
    assert notices[2].body["content"].startswith("📝 Stories proposed (11-12 of 12):")


def test_the_review_summary_fits_one_embed() -> None:
    [notice] = notices_for(event("sprint review", summary="y" * 9_000), NoticeContext(PID))
    [embed] = notice.body["embeds"]
    assert len(embed["description"]) == wire.MAX_EMBED_DESCRIPTION


def test_a_decided_approval_shows_no_buttons() -> None:
    decided = proposal(1).model_copy(update={"status": ApprovalStatus.APPROVED})
    reminder = event("approval reminder", approval_id=decided.id, deadline_ts=0)
    [notice] = notices_for(reminder, NoticeContext(PID, approvals={decided.id: decided}))
    assert "components" not in notice.body


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected"),
    [
        (429, {"Retry-After": "2"}, {"retry_after": 1.25, "global": False}, (1.25, False, True)),
        (429, {"Retry-After": "3", "X-RateLimit-Global": "true"}, {}, (3.0, True, True)),
        (
            200,
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "0.7"},
            {},
            (0.7, False, False),
        ),
    ],
)
def test_rate_limit_headers_say_how_long_and_for_whom(
    status: int, headers: dict[str, str], body: dict[str, Any], expected: tuple[float, bool, bool]
) -> None:
    throttle = throttle_of(httpx.Response(status, headers=headers, json=body))
    assert throttle is not None
    assert (throttle.seconds, throttle.is_global, throttle.limited) == expected


def test_a_bucket_with_room_left_needs_no_wait() -> None:
    reply = httpx.Response(200, headers={"X-RateLimit-Remaining": "4"}, json={})
    assert throttle_of(reply) is None
