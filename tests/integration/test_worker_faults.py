"""Agents that misbehave: gates refuse on evidence, retries recover, three refusals ask a human,
and an unavailable provider delays work without costing the story an attempt."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from shared.domain.models import (
    Approval,
    ApprovalKind,
    ApprovalStatus,
    ScrumState,
    Story,
    StoryStatus,
)
from shared.domain.tdd import CycleStatus, TDDCycle
from shared.fakes.fake_state import FaultKind
from shared.state import keys
from shared.workflow import cycles
from tests.factories import APPROVER, timeline_events
from tests.integration.worker_fixtures import (  # noqa: F401 - fixtures are found by name
    Pool,
    fake_model_fixture,
    pool_fixture,
    queue_fixture,
    sample_repo_fixture,
    worker_settings_fixture,
)

if TYPE_CHECKING:
    from shared.fakes.anthropic_server import FakeAnthropicServer

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

PID = "faulty"


async def sprint_of(pool: Pool, repo: Path, titles: list[str]) -> list[str]:
    return await pool.start_sprint(PID, repo, titles)


async def state_is(pool: Pool, state: ScrumState) -> bool:
    return (await pool.project(PID)).state is state


async def story(pool: Pool, story_id: str) -> Story:
    found = await pool.store.get(Story, keys.entity(PID, "story", story_id))
    assert found is not None
    return found


async def cycle(pool: Pool, story_id: str) -> TDDCycle:
    cycle_id = (await story(pool, story_id)).tdd_cycle_id
    assert cycle_id is not None
    found = await pool.store.get(TDDCycle, cycles.cycle_key(PID, cycle_id))
    assert found is not None
    return found


def refusals(c: TDDCycle) -> list[tuple[str, str]]:
    return [(e.phase, e.gate_reason) for e in c.evidence if not e.gate_passed]


async def test_each_lying_agent_is_refused_once_then_the_retry_passes(
    pool: Pool, sample_repo: Path
) -> None:
    faults = {
        "Add two numbers [fault:red-import-error]": ("TEST_RED", "did not run"),
        "Subtract two numbers [fault:green-lie]": ("CODE_GREEN", "must pass now"),
        "Divide two numbers [fault:refactor-breaks]": ("REFACTOR", "must stay green"),
    }
    ids = await sprint_of(pool, sample_repo, list(faults))

    await pool.until(lambda: state_is(pool, ScrumState.SPRINT_REVIEW), timeout_s=180)

    for story_id, (phase, words) in zip(ids, faults.values(), strict=True):
        done = await cycle(pool, story_id)
        assert done.status is CycleStatus.DONE
        assert [(p, words in reason) for p, reason in refusals(done)] == [(phase, True)]
        assert done.attempts[phase] == 2


async def test_a_code_agent_writing_tests_is_stopped_by_the_tools(
    pool: Pool, sample_repo: Path
) -> None:
    (story_id,) = await sprint_of(
        pool, sample_repo, ["Multiply two numbers [fault:code-writes-test]"]
    )

    await pool.until(lambda: state_is(pool, ScrumState.SPRINT_REVIEW), timeout_s=90)

    assert refusals(await cycle(pool, story_id)) == []  # the tests it reached for stayed intact
    tool_calls = [e.payload for e in await timeline_events(pool.store, PID) if e.command == "tool"]
    refused_writes = [
        c["input"]["path"]
        for c in tool_calls
        if c["role"] == "code" and c["outcome"] == "error" and "path" in c.get("input", {})
    ]
    assert refused_writes
    assert all(p.startswith("tests/") for p in refused_writes), refused_writes


async def test_three_refusals_block_the_story_and_a_human_decides(
    pool: Pool, sample_repo: Path
) -> None:
    (stuck,) = await sprint_of(pool, sample_repo, ["Multiply two numbers [fault:green-lie!]"])

    await pool.until(lambda: state_is(pool, ScrumState.BLOCKED), timeout_s=90)
    blocked = await cycle(pool, stuck)
    assert blocked.status is CycleStatus.BLOCKED
    assert [phase for phase, _ in refusals(blocked)] == ["CODE_GREEN"] * 3
    assert (await story(pool, stuck)).status is StoryStatus.BLOCKED
    approvals = await pool.store.redis.keys(keys.entity(PID, "approval", "*"))
    found = [await pool.store.get(Approval, k) for k in approvals]
    pending = [a.kind for a in found if a and a.status is ApprovalStatus.PENDING]
    assert pending == [ApprovalKind.BLOCKED_TASK]

    hint = "Compute the product with a * b; do not return a constant."
    await pool.command("suggest_fix", {"description": hint}, project_id=PID, actor=APPROVER)
    assert (await cycle(pool, stuck)).hint == hint

    async def blocked_again() -> bool:
        return len(refusals(await cycle(pool, stuck))) == 6

    await pool.until(blocked_again, timeout_s=90)  # the fault is sticky: the hint cannot help
    await pool.until(lambda: state_is(pool, ScrumState.BLOCKED), timeout_s=10)
    await pool.command("skip_task", project_id=PID, actor=APPROVER)

    await pool.until(lambda: state_is(pool, ScrumState.SPRINT_REVIEW), timeout_s=30)
    assert (await story(pool, stuck)).status is StoryStatus.SKIPPED
    assert (await cycle(pool, stuck)).status is CycleStatus.ABORTED


async def test_a_garbled_or_overloaded_provider_delays_the_work_but_costs_no_attempt(
    pool: Pool, sample_repo: Path, fake_model: FakeAnthropicServer
) -> None:
    fake_model.inject(FaultKind.MALFORMED_TOOL_INPUT, 1)
    fake_model.inject(FaultKind.OVERLOADED, 4)
    fake_model.inject(FaultKind.RATE_LIMITED, 4, retry_after_s=0.2)
    (story_id,) = await sprint_of(pool, sample_repo, ["Add two numbers"])

    await pool.until(lambda: state_is(pool, ScrumState.SPRINT_REVIEW), timeout_s=120)

    done = await cycle(pool, story_id)
    assert refusals(done) == []
    assert set(done.attempts.values()) == {1}
    applied = fake_model.stats()["faults_applied"]
    assert applied == {"malformed_tool_input": 1, "529": 4, "429": 4}


async def test_pause_stops_a_running_agent_at_once_and_resume_finishes_the_story(
    pool: Pool, sample_repo: Path, fake_model: FakeAnthropicServer
) -> None:
    fake_model.inject(FaultKind.SLOW, 1, delay_s=60)
    (story_id,) = await sprint_of(pool, sample_repo, ["Add two numbers"])

    async def hanging() -> bool:
        applied: dict[str, int] = fake_model.stats()["faults_applied"]
        return applied.get(FaultKind.SLOW.value) == 1

    await pool.until(hanging, timeout_s=30)
    await pool.command("tdd pause", {"story_id": story_id}, project_id=PID)

    async def given_back() -> bool:
        c = await cycle(pool, story_id)
        return c.status is CycleStatus.PAUSED and c.paused_from is CycleStatus.QUEUED

    await pool.until(given_back, timeout_s=10)  # the hung model call did not have to end
    assert (await cycle(pool, story_id)).attempt() == 0  # a paused attempt is not counted
    await pool.command("tdd resume", {"story_id": story_id}, project_id=PID)

    await pool.until(lambda: state_is(pool, ScrumState.SPRINT_REVIEW), timeout_s=90)
    done = await cycle(pool, story_id)
    assert refusals(done) == []
    assert set(done.attempts.values()) == {1}


async def test_escapes_are_refused_by_the_tools_and_an_endless_agent_by_the_turn_limit(
    pool: Pool, sample_repo: Path
) -> None:
    titles = ["Add two numbers [fault:traversal@qa]", "Subtract two numbers [fault:endless@code]"]
    escaping, endless = await sprint_of(pool, sample_repo, titles)

    await pool.until(lambda: state_is(pool, ScrumState.SPRINT_REVIEW), timeout_s=180)

    assert refusals(await cycle(pool, escaping)) == []  # every escape was refused by the tools
    calls = [e.payload for e in await timeline_events(pool.store, PID) if e.command == "tool"]
    escapes = [c for c in calls if c.get("story_id") == escaping and c["outcome"] == "error"]
    assert len(escapes) >= 3, escapes
    assert not (sample_repo.parent / "awf-escape.txt").exists()
    ((phase, reason),) = refusals(await cycle(pool, endless))
    assert (phase, "turn limit" in reason) == ("CODE_GREEN", True)
