"""Decision buttons and modals through the fake Discord: every decision happens exactly once,
whoever clicks and however often; the later clicks are told, ephemerally, who decided."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from shared.domain.models import Approval, ApprovalStatus, ScrumState
from shared.state import keys
from tests.factories import get_project, make_project_in_state, timeline_events
from tests.integration.discord_fixtures import (
    DiscordStack,
    acting_as,
    add_member,
    discord_stack,
    is_ephemeral,
    response_of,
    slash,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def stack(redis_url: str, _empty_config_file: Path) -> AsyncIterator[DiscordStack]:
    async with discord_stack(_empty_config_file, redis_url) as running:
        yield running


def buttons(response: dict[str, Any]) -> dict[str, str]:
    """Label -> custom_id of the buttons a response shows."""
    rows = response["data"].get("components") or []
    return {b["label"]: b["custom_id"] for row in rows for b in row["components"]}


async def click_together(
    stack: DiscordStack, *clicks: tuple[dict[str, Any], str]
) -> list[dict[str, Any]]:
    """Each (user, button) click lands before any was answered (as on several screens)."""
    records = []
    for user, custom_id in clicks:
        with acting_as(stack.fake, user):
            records.append(await stack.fake.click_button(custom_id))
    return list(await asyncio.gather(*(response_of(stack.fake, r) for r in records)))


def split(answers: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The one message update (the decision), and every other answer."""
    [decided] = [a for a in answers if a["type"] == 7]
    return decided, [a for a in answers if a is not decided]


async def pending_approval(stack: DiscordStack, pid: str) -> Approval:
    [approval_id] = await stack.redis.zrange(keys.index(pid, "approvals:pending"), 0, -1)
    approval = await stack.store.get(Approval, keys.entity(pid, "approval", approval_id))
    assert approval is not None
    return approval


async def test_a_double_click_approves_once(stack: DiscordStack, redis: Redis) -> None:
    pid = await make_project_in_state(stack.store, ScrumState.BACKLOG_READY)
    approval = await pending_approval(stack, pid)
    panel = await slash(stack.fake, "state", {"project": pid})
    me = stack.fake.world.human

    approve = buttons(panel)["Approve"]
    first, [second] = split(await click_together(stack, (me, approve), (me, approve)))

    assert first["data"]["content"].endswith(f"✅ Approved by <@{me['id']}>")
    assert first["data"]["components"] == []
    assert is_ephemeral(second)
    assert second["data"]["content"].startswith(f"Already decided by <@{me['id']}>: approved")
    decided = await stack.store.get(Approval, keys.entity(pid, "approval", approval.id))
    assert decided is not None
    assert (decided.status, decided.decided_by) == (ApprovalStatus.APPROVED, f"discord:{me['id']}")
    approvals = [e for e in await timeline_events(stack.store, pid) if e.command == "approve"]
    assert len(approvals) == 2  # make_project_in_state's, and exactly one click


async def test_two_approvers_one_decision_the_other_is_told_who(
    stack: DiscordStack, redis: Redis
) -> None:
    pid = await make_project_in_state(stack.store, ScrumState.BACKLOG_READY)
    panel = await slash(stack.fake, "state", {"project": pid})
    ann, bob = add_member(stack.fake, "ann", "approver"), add_member(stack.fake, "bob", "approver")
    carl = add_member(stack.fake, "carl", "approver")
    ids = buttons(panel)

    answers = await click_together(
        stack, (ann, ids["Approve"]), (bob, ids["Approve"]), (carl, ids["Reject"])
    )

    updated, others = split(answers)
    winner = ann if f"<@{ann['id']}>" in updated["data"]["content"] else bob
    [told] = [a for a in others if is_ephemeral(a)]
    assert told["data"]["content"].startswith(f"Already decided by <@{winner['id']}>")
    [modal] = [a for a in others if a["type"] == 9]  # carl's Reject opened its modal in time
    with acting_as(stack.fake, carl):
        record = await stack.fake.submit_modal(ids["Reject"], {"text": "too late"})
    refused = await response_of(stack.fake, record)
    assert is_ephemeral(refused)
    assert f"Already decided by <@{winner['id']}>" in refused["data"]["content"]
    assert modal["data"]["custom_id"] == ids["Reject"]


async def test_reject_asks_for_a_reason_and_records_it(stack: DiscordStack, redis: Redis) -> None:
    pid = await make_project_in_state(stack.store, ScrumState.BACKLOG_READY)
    approval = await pending_approval(stack, pid)
    reject = buttons(await slash(stack.fake, "state", {"project": pid}))["Reject"]
    modal = await response_of(stack.fake, await stack.fake.click_button(reject))
    assert (modal["type"], modal["data"]["custom_id"]) == (9, reject)

    record = await stack.fake.submit_modal(reject, {"text": "Out of scope"})
    answer = await response_of(stack.fake, record)

    assert answer["type"] == 4
    assert "❌ Rejected by" in answer["data"]["content"]
    assert answer["data"]["content"].endswith(": Out of scope")
    decided = await stack.store.get(Approval, keys.entity(pid, "approval", approval.id))
    assert decided is not None
    assert (decided.status, decided.reason) == (ApprovalStatus.REJECTED, "Out of scope")


async def test_a_viewer_cannot_click_approve(stack: DiscordStack, redis: Redis) -> None:
    pid = await make_project_in_state(stack.store, ScrumState.BACKLOG_READY)
    approve = buttons(await slash(stack.fake, "state", {"project": pid}))["Approve"]
    with acting_as(stack.fake, add_member(stack.fake, "vic", "viewer")):
        answer = await response_of(stack.fake, await stack.fake.click_button(approve))
    assert is_ephemeral(answer)
    assert "needs the approver role" in answer["data"]["content"]
    assert (await pending_approval(stack, pid)).status is ApprovalStatus.PENDING


async def test_a_blocked_story_takes_a_fix_once(stack: DiscordStack, redis: Redis) -> None:
    pid = await make_project_in_state(stack.store, ScrumState.BLOCKED)
    panel = await slash(stack.fake, "state", {"project": pid})
    ids = buttons(panel)
    assert {"Suggest fix", "Skip task"} <= set(ids)

    modal = await response_of(stack.fake, await stack.fake.click_button(ids["Suggest fix"]))
    assert modal["type"] == 9
    skip = await stack.fake.click_button(ids["Skip task"])  # clicked while the modal is open
    fixed = await response_of(
        stack.fake, await stack.fake.submit_modal(ids["Suggest fix"], {"text": "Pin the dep"})
    )
    skipped = await response_of(stack.fake, skip)

    decisions = [fixed, skipped]
    assert sum(is_ephemeral(d) for d in decisions) == 1
    assert (await get_project(stack.store, pid)).state is ScrumState.SPRINT_ACTIVE
    late = next(d for d in decisions if is_ephemeral(d))
    assert late["data"]["content"].startswith("Already decided by")


async def test_pause_then_resume_from_the_sprint_message(stack: DiscordStack, redis: Redis) -> None:
    pid = await make_project_in_state(stack.store, ScrumState.SPRINT_ACTIVE)
    panel = await slash(stack.fake, "sprint status", {"project": pid})
    me = stack.fake.world.human

    pause = buttons(panel)["Pause"]
    paused, [again] = split(await click_together(stack, (me, pause), (me, pause)))

    assert "⏸️ Sprint paused by" in paused["data"]["content"]
    assert is_ephemeral(again)
    assert again["data"]["content"].startswith("Already decided by")
    assert (await get_project(stack.store, pid)).state is ScrumState.SPRINT_PAUSED
    resume = buttons(paused)["Resume"]
    resumed = await response_of(stack.fake, await stack.fake.click_button(resume))
    assert "▶️ Sprint resumed by" in resumed["data"]["content"]
    assert (await get_project(stack.store, pid)).state is ScrumState.SPRINT_ACTIVE


async def test_a_replayed_interaction_is_handled_once(stack: DiscordStack, redis: Redis) -> None:
    pid = await make_project_in_state(stack.store, ScrumState.IDLE)
    record = await stack.fake.inject_slash("backlog add_story", {"project": pid, "title": "Once"})
    await response_of(stack.fake, record)
    hub = stack.fake.state.hub
    await hub.sessions.dispatch("INTERACTION_CREATE", record.payload)  # e.g. two sessions
    await asyncio.sleep(0.3)
    assert len(record.responses) == 1
    added = [e for e in await timeline_events(stack.store, pid) if e.command == "backlog add_story"]
    assert len(added) == 3  # make_project_in_state's two, and this one once
