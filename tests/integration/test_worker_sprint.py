"""Agents do the sprint: arq workers, the real SDK against the scripted model, real git, real tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from shared.domain.models import Approval, ApprovalKind, ScrumState, Sprint, Story, StoryStatus
from shared.domain.tdd import CycleStatus, TDDCycle
from shared.state import keys
from shared.workflow import cycles
from tests.factories import APPROVER, backlog_ids, proposed_ids, timeline_events
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

PID = "calc"
PHASES = ["DESIGN", "TEST_RED", "CODE_GREEN", "REFACTOR", "COMMIT"]


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout.strip()


async def register(pool: Pool, repo: Path, mode: str = "partial") -> None:
    await pool.command("project register", {"repo_url": str(repo), "id": PID, "mode": mode})
    await pool.command("project start", {"project": PID})


async def proposals(pool: Pool, epic: str) -> list[str]:
    await pool.command("epic", {"description": epic}, project_id=PID)

    async def proposed() -> bool:
        return bool(await proposed_ids(pool.store, PID))

    await pool.until(proposed, timeout_s=30)
    return await proposed_ids(pool.store, PID)


async def start_sprint(pool: Pool, story_ids: list[str]) -> None:
    await pool.command(
        "sprint plan", {"story_ids": story_ids, "goal": "arithmetic"}, project_id=PID
    )
    await pool.command("sprint start", project_id=PID)


async def in_review(pool: Pool) -> bool:
    return (await pool.project(PID)).state is ScrumState.SPRINT_REVIEW


async def reviewed_sprint(pool: Pool) -> Sprint | None:
    sprint_id = (await pool.project(PID)).active_sprint_id
    assert sprint_id
    sprint = await pool.store.get(Sprint, keys.entity(PID, "sprint", sprint_id))
    return sprint if sprint and sprint.review_summary else None


async def story(pool: Pool, story_id: str) -> Story:
    found = await pool.store.get(Story, keys.entity(PID, "story", story_id))
    assert found is not None
    return found


async def usage_of(pool: Pool) -> dict[str, float]:
    """What the project was charged, by field (project, sprint:<id>, agent:<type> costs)."""
    raw: dict[str, str] = await pool.store.redis.hgetall(keys.usage(PID))  # type: ignore[misc]
    return {field: float(value) for field, value in raw.items()}


async def cycle_of(pool: Pool, s: Story) -> TDDCycle:
    assert s.tdd_cycle_id
    found = await pool.store.get(TDDCycle, cycles.cycle_key(PID, s.tdd_cycle_id))
    assert found is not None
    return found


async def test_an_epic_becomes_proposed_stories_from_the_backlog_agent(
    pool: Pool, sample_repo: Path
) -> None:
    await register(pool, sample_repo)
    ids = await proposals(pool, "Basic arithmetic for the calculator: add and subtract")
    stories = [await story(pool, i) for i in ids]
    assert [s.title for s in stories] == ["Add two numbers", "Subtract two numbers"]
    assert all(s.acceptance_criteria for s in stories)
    assert await backlog_ids(pool.store, PID) == []  # nothing enters the backlog unapproved
    usage = await usage_of(pool)
    assert usage["agent:backlog:cost"] > 0  # the backlog agent's work is charged
    assert usage["project:cost"] == usage["agent:backlog:cost"]


async def test_a_sprint_runs_every_story_through_tdd_on_its_branch(
    pool: Pool, sample_repo: Path, fake_model: FakeAnthropicServer
) -> None:
    await register(pool, sample_repo)
    ids = await proposals(pool, "Basic arithmetic for the calculator: add and subtract")
    await pool.command("approve", {"ids": ids}, project_id=PID, actor=APPROVER)
    main_before = git(sample_repo, "rev-parse", "main")
    await start_sprint(pool, ids)

    await pool.until(lambda: in_review(pool), timeout_s=120)

    for story_id in ids:
        done = await story(pool, story_id)
        assert done.status is StoryStatus.DONE
        cycle = await cycle_of(pool, done)
        assert cycle.status is CycleStatus.DONE
        assert [e.phase for e in cycle.evidence if e.gate_passed] == PHASES
        branch = f"awf/{story_id}"
        assert git(sample_repo, "rev-parse", branch) == cycle.head_sha
        log = git(sample_repo, "log", "--format=%s", f"main..{branch}")
        assert [line.split(":")[1].split(" - ")[0].strip() for line in log.splitlines()] == [
            "REFACTOR",
            "CODE_GREEN",
            "TEST_RED",
            "DESIGN",
        ]
    assert git(sample_repo, "rev-parse", "main") == main_before  # not written before approval
    reviewed = await pool.until_value(lambda: reviewed_sprint(pool), timeout_s=30)
    assert reviewed.review_summary.startswith("Sprint summary:")
    assert reviewed.review_metrics["completed_stories"] == 2
    assert reviewed.review_metrics["gate_refusals"] == 0
    usage = await usage_of(pool)
    phases_cost = sum([(await cycle_of(pool, await story(pool, i))).cost_usd for i in ids])
    assert usage["agent:data:cost"] > 0  # the review's narration is the sprint's work too
    sprint_cost = phases_cost + usage["agent:data:cost"]
    assert usage[f"sprint:{reviewed.id}:cost"] == pytest.approx(sprint_cost)
    assert usage["project:cost"] == pytest.approx(sprint_cost + usage["agent:backlog:cost"])
    events = [e.command for e in await timeline_events(pool.store, PID)]
    assert events.count("tool") > 0
    assert fake_model.stats()["calls"] > 0


async def test_approved_merges_land_on_main_only_when_clean_and_green(
    pool: Pool, sample_repo: Path, tmp_path: Path
) -> None:
    remote = tmp_path / "calculator.git"  # a real remote is bare: nobody has main checked out
    git(tmp_path, "clone", "--quiet", "--bare", str(sample_repo), str(remote))
    sample_repo = remote
    await register(pool, sample_repo)
    ids = await proposals(pool, "Basic arithmetic for the calculator: add and subtract")
    await pool.command("approve", {"ids": ids}, project_id=PID, actor=APPROVER)
    main_before = git(sample_repo, "rev-parse", "main")
    await start_sprint(pool, ids)
    await pool.until(lambda: in_review(pool), timeout_s=120)
    merges = await pending_merges(pool)
    assert sorted(a.subject_id for a in merges) == sorted(ids)
    requested = [
        e for e in await timeline_events(pool.store, PID) if e.command == "merge requested"
    ]
    assert sorted(e.payload["approval_id"] for e in requested) == sorted(a.id for a in merges)
    assert git(sample_repo, "rev-parse", "main") == main_before

    await pool.command("approve", {"ids": [merges[0].id]}, project_id=PID, actor=APPROVER)
    await pool.until(lambda: merged_count(pool, 1), timeout_s=60)
    first = merges[0].subject_id
    assert git(sample_repo, "log", "-1", "--format=%s", "main") == (
        f"Merge {first}: {(await story(pool, first)).title}"
    )
    clone = tmp_path / "main"
    subprocess.run(["git", "clone", "-q", str(sample_repo), str(clone)], check=True, timeout=30)
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert suite.returncode == 0, suite.stdout[-2000:]

    # both stories appended to calculator.py from the same base: the second cannot merge cleanly
    await pool.command("approve", {"ids": [merges[1].id]}, project_id=PID, actor=APPROVER)
    again = await pool.until_value(lambda: merge_asked_again(pool, merges[1].id), timeout_s=60)
    assert "conflicts in" in again.summary or "another merge land first" in again.summary
    assert git(sample_repo, "rev-list", "--count", f"{main_before}..main") != "0"
    assert await merged_count(pool, 1)


async def pending_merges(pool: Pool) -> list[Approval]:
    ids = await pool.store.redis.zrange(keys.index(PID, "approvals:pending"), 0, -1)
    found = [await pool.store.get(Approval, keys.entity(PID, "approval", i)) for i in ids]
    return [a for a in found if a and a.kind is ApprovalKind.MERGE]


async def merged_count(pool: Pool, count: int) -> bool:
    events = await timeline_events(pool.store, PID)
    return sum(e.command == "story merged" for e in events) == count


async def merge_asked_again(pool: Pool, decided_id: str) -> Approval | None:
    return next((a for a in await pending_merges(pool) if a.id != decided_id), None)
