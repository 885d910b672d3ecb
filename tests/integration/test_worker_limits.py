"""A project whose test command hangs: the runner's time limit ends it and the gate refuses."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from arq.connections import ArqRedis

from services.cli.sample_repo import make_sample_repo
from shared.domain.models import Story
from shared.domain.tdd import TDDCycle
from shared.fakes.anthropic_server import FakeAnthropicServer
from shared.platform.settings import load_settings
from shared.state import keys
from shared.state.store import Store
from shared.workflow import cycles
from tests.integration.worker_fixtures import (  # noqa: F401 - fixtures are found by name
    Pool,
    fake_model_fixture,
    queue_fixture,
    running_workers,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(300)]

PID = "hangs"
MARKER = "awf-hanging-suite-7c1f"


async def first_refusal(pool: Pool, story_id: str) -> str | None:
    story = await pool.store.get(Story, keys.entity(PID, "story", story_id))
    if story is None or not story.tdd_cycle_id:
        return None
    cycle = await pool.store.get(TDDCycle, cycles.cycle_key(PID, story.tdd_cycle_id))
    refused = [e for e in (cycle.evidence if cycle else []) if not e.gate_passed]
    return f"{refused[0].phase}: {refused[0].gate_reason}" if refused else None


async def test_a_hanging_test_command_is_killed_at_its_limit_and_refused(
    store: Store, queue: ArqRedis, redis_url: str, fake_model: FakeAnthropicServer, tmp_path: Path
) -> None:
    config = tmp_path / "limits.yml"
    config.write_text("agents: {max_turns: 12, test_timeout_s: 2}\n")
    settings = load_settings(
        config, awf_env="test", redis_url=redis_url, anthropic_base_url=fake_model.base_url
    )
    repo = make_sample_repo(tmp_path / "calculator")
    hang = f'python -c "import time  # {MARKER}\ntime.sleep(120)"'
    async with running_workers(settings, 1) as workers:
        pool = Pool(store, queue, settings, workers)
        (story_id,) = await pool.start_sprint(PID, repo, ["Add two numbers"], test_command=hang)

        refusal = await pool.until_value(lambda: first_refusal(pool, story_id), timeout_s=120)
        await pool.command("sprint pause", project_id=PID)

    assert refusal.startswith("TEST_RED: The tests did not run: timed out")
    left = subprocess.run(["pgrep", "-f", MARKER], capture_output=True, text=True, check=False)
    assert left.stdout.strip() == ""  # the whole process group was killed at the limit
