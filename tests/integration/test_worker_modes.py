"""Autonomous mode merges finished stories itself, except those touching security-critical paths."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from shared.domain.models import Approval, ApprovalKind, ScrumState
from shared.jobs.queue import enqueue_all
from shared.jobs.specs import merge_job
from shared.platform.settings import Settings, load_settings
from shared.state import keys
from tests.factories import timeline_events
from tests.integration.worker_fixtures import (  # noqa: F401 - fixtures are found by name
    Pool,
    fake_model_fixture,
    pool_fixture,
    queue_fixture,
    sample_repo_fixture,
)

if TYPE_CHECKING:
    from shared.fakes.anthropic_server import FakeAnthropicServer
    from shared.state.timeline import TimelineEvent

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

PID = "calc"


@pytest.fixture(name="worker_settings")
def flagging_settings(redis_url: str, fake_model: FakeAnthropicServer, tmp_path: Path) -> Settings:
    config = tmp_path / "config.yml"
    config.write_text(
        "agents: {max_turns: 12, test_timeout_s: 60}\n"
        "orchestrator: {security_paths: ['*subtract*']}\n"
    )
    return load_settings(
        config, awf_env="test", redis_url=redis_url, anthropic_base_url=fake_model.base_url
    )


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True, timeout=30
    )
    return done.stdout.strip()


async def test_autonomous_merges_clean_green_stories_and_asks_for_flagged_ones(
    pool: Pool, sample_repo: Path, tmp_path: Path
) -> None:
    remote = tmp_path / "calculator.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(sample_repo), str(remote))
    main_before = git(remote, "rev-parse", "main")
    add, subtract = await pool.start_sprint(
        PID, remote, ["Add two numbers", "Subtract two numbers"], mode="autonomous"
    )

    merged = await pool.until_value(lambda: merged_event(pool), timeout_s=150)
    asked = await pool.until_value(lambda: pending_merge(pool), timeout_s=60)

    assert merged.payload["story_id"] == add
    assert merged.payload["approved_by"] == "autonomous mode"
    assert git(remote, "rev-parse", "main") == merged.payload["commit_sha"]
    assert git(remote, "rev-parse", "main^1") == main_before
    assert asked.subject_id == subtract
    assert "security-critical" in asked.summary
    assert "subtract" in asked.summary
    assert "orchestrator.security_paths" in asked.summary
    events = await timeline_events(pool.store, PID)
    asking = [e for e in events if e.payload.get("approval_id") == asked.id]
    assert [e.command for e in asking] == ["merge needs approval"]  # Discord shows its buttons
    assert await merged_stories(pool) == [add]  # the flagged story stays on its branch
    assert (await pool.project(PID)).state is ScrumState.SPRINT_REVIEW
    assert_suite_passes(remote, tmp_path / "main")


async def merged_event(pool: Pool) -> TimelineEvent | None:
    events = await timeline_events(pool.store, PID)
    return next((e for e in events if e.command == "story merged"), None)


async def merged_stories(pool: Pool) -> list[str]:
    events = await timeline_events(pool.store, PID)
    return [e.payload["story_id"] for e in events if e.command == "story merged"]


async def pending_merge(pool: Pool) -> Approval | None:
    ids = await pool.store.redis.zrange(keys.index(PID, "approvals:pending"), 0, -1)
    found = [await pool.store.get(Approval, keys.entity(PID, "approval", i)) for i in ids]
    return next((a for a in found if a and a.kind is ApprovalKind.MERGE), None)


def assert_suite_passes(remote: Path, clone: Path) -> None:
    git(remote.parent, "clone", "-q", str(remote), str(clone))
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert suite.returncode == 0, suite.stdout[-2000:]


async def test_an_automatic_merge_asks_when_the_project_left_autonomous_mode(
    pool: Pool, sample_repo: Path
) -> None:
    await pool.command("project register", {"repo_url": str(sample_repo), "id": PID})
    epic = await pool.command(
        "epic", {"description": "Arithmetic", "stories": [{"title": "Add"}]}, project_id=PID
    )
    story_id = epic.result["proposed_story_ids"][0]
    main_before = git(sample_repo, "rev-parse", "main")

    await enqueue_all(pool.queue, [merge_job(PID, story_id)])

    asked = await pool.until_value(lambda: pending_merge(pool), timeout_s=30)
    assert asked.subject_id == story_id
    assert "blocking mode now, not autonomous" in asked.summary
    assert await merged_stories(pool) == []
    assert git(sample_repo, "rev-parse", "main") == main_before
