"""Humans in the loop: blocking mode parks every phase result for approval, and a budget cap
holds the work until someone lets it go on."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from arq.connections import ArqRedis

from services.cli.sample_repo import make_sample_repo
from shared.domain.models import Approval, ApprovalKind, ApprovalStatus, ScrumState
from shared.fakes.anthropic_server import FakeAnthropicServer
from shared.platform.settings import load_settings
from shared.state import keys
from shared.state.store import Store
from tests.factories import APPROVER
from tests.integration.worker_fixtures import (  # noqa: F401 - fixtures are found by name
    Pool,
    fake_model_fixture,
    pool_fixture,
    queue_fixture,
    running_workers,
    sample_repo_fixture,
    worker_settings_fixture,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

PID = "careful"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        check=False,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout.strip()


async def pending_result(pool: Pool) -> Approval | None:
    ids = await pool.store.redis.zrange(keys.index(PID, "approvals:pending"), 0, -1)
    found = [await pool.store.get(Approval, keys.entity(PID, "approval", i)) for i in ids]
    results = [a for a in found if a and a.kind is ApprovalKind.PHASE_RESULT]
    return results[0] if results else None


async def test_each_phase_result_waits_for_a_human_and_a_rejection_is_retried(
    pool: Pool, sample_repo: Path
) -> None:
    (story_id,) = await pool.start_sprint(PID, sample_repo, ["Add two numbers"], mode="blocking")
    branch = f"awf/{story_id}"

    design = await pool.until_value(lambda: pending_result(pool), timeout_s=60)
    assert design.summary.startswith("DESIGN of")
    assert git(sample_repo, "rev-parse", "--verify", "--quiet", branch) == ""  # nothing applied
    parked = git(sample_repo, "rev-parse", f"refs/awf/pending/{story_id}")
    assert parked

    await pool.command("approve", {"ids": [design.id]}, project_id=PID, actor=APPROVER)
    red = await pool.until_value(lambda: pending_result(pool), timeout_s=60)
    assert red.summary.startswith("TEST_RED of")
    assert git(sample_repo, "rev-parse", branch) == parked  # the approved DESIGN, applied

    reason = "Also test adding negative numbers."
    await pool.command(
        "reject", {"ids": [red.id], "reason": reason}, project_id=PID, actor=APPROVER
    )
    retried = await pool.until_value(lambda: pending_result(pool), timeout_s=60)
    assert retried.summary.startswith("TEST_RED of")
    rejected = await pool.store.get(Approval, keys.entity(PID, "approval", red.id))
    assert rejected is not None
    assert (rejected.status, rejected.decided_by) == (ApprovalStatus.REJECTED, APPROVER.name)

    approval: Approval | None = retried
    while approval is not None:
        await pool.command("approve", {"ids": [approval.id]}, project_id=PID, actor=APPROVER)
        found = await pool.until_value(lambda: next_result_or_review(pool), timeout_s=60)
        approval = found if isinstance(found, Approval) else None

    log = git(sample_repo, "log", "--reverse", "--format=%s", f"main..{branch}")
    assert [line.split(": ")[1].split(" - ")[0] for line in log.splitlines()] == [
        "DESIGN",
        "TEST_RED",
        "CODE_GREEN",
        "REFACTOR",
    ]
    assert "(attempt 2)" in log.splitlines()[1]  # the rejected attempt never reached the branch


async def next_result_or_review(pool: Pool) -> Approval | bool | None:
    """The next parked result, True once the sprint is in review, None while agents work."""
    if (await pool.project(PID)).state is ScrumState.SPRINT_REVIEW:
        return True
    return await pending_result(pool)


async def test_a_story_over_its_token_cap_is_held_until_a_human_lets_it_go_on(
    store: Store, queue: ArqRedis, redis_url: str, fake_model: FakeAnthropicServer, tmp_path: Path
) -> None:
    config = tmp_path / "budget.yml"
    config.write_text("agents: {max_turns: 12}\nbudgets: {story_tokens: 10000}\n")
    settings = load_settings(
        config, awf_env="test", redis_url=redis_url, anthropic_base_url=fake_model.base_url
    )
    repo = make_sample_repo(tmp_path / "calculator")
    async with running_workers(settings, 1) as workers:
        pool = Pool(store, queue, settings, workers)
        await pool.start_sprint(PID, repo, ["Add two numbers"])

        held = await pool.until_value(lambda: pending_of(pool, ApprovalKind.BUDGET), timeout_s=60)
        assert held.summary.startswith("The story tokens")
        state = await pool.command("state", project_id=PID)
        assert state.result["usage"]["project_cost_usd"] > 0

        await pool.command("approve", {"ids": [held.id]}, project_id=PID, actor=APPROVER)
        await pool.until(lambda: in_review(pool), timeout_s=90)
    assert await pending_of(pool, ApprovalKind.BUDGET) is None  # waived: asked once


async def pending_of(pool: Pool, kind: ApprovalKind) -> Approval | None:
    ids = await pool.store.redis.zrange(keys.index(PID, "approvals:pending"), 0, -1)
    found = [await pool.store.get(Approval, keys.entity(PID, "approval", i)) for i in ids]
    return next((a for a in found if a and a.kind is kind), None)


async def in_review(pool: Pool) -> bool:
    return (await pool.project(PID)).state is ScrumState.SPRINT_REVIEW
