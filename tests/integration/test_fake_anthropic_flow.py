"""The scripted model through the real SDK, the agent loop and the real tools, on the demo's
sample repository: the TDD phases of one story, and the adversarial faults."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anthropic
import pytest

from services.cli.sample_repo import make_sample_repo
from shared.agents.loop import AgentRun, run_agent
from shared.agents.roles import ROLES, RoleName
from shared.agents.task import AgentTask, render_task
from shared.agents.tool_specs import tool_params
from shared.agents.tools import ToolContext, execute_tool
from shared.fakes.anthropic_server import FakeAnthropicServer
from shared.fakes.conversation import make_task
from shared.fakes.scripts.fault_steps import ESCAPE_LINK

MODEL = "claude-sonnet-4-6"
# The sample repository needs none of our pytest plugins; skipping them saves a second a run.
FAST_PYTEST = "python -m pytest -q -p no:hypothesispytest -p no:asyncio -p no:timeout"


@pytest.fixture(scope="module")
def server() -> Iterator[FakeAnthropicServer]:
    with FakeAnthropicServer() as running:
        yield running


@pytest.fixture
async def client(server: FakeAnthropicServer) -> AsyncIterator[anthropic.AsyncAnthropic]:
    async with anthropic.AsyncAnthropic(base_url=server.base_url, api_key="sk-test") as sdk:
        yield sdk


async def _run(
    client: anthropic.AsyncAnthropic, repo: Path, task: AgentTask, max_turns: int = 20
) -> AgentRun:
    role = ROLES[task.role]
    ctx = ToolContext(root=repo, role=role, test_command=FAST_PYTEST)

    async def run_tool(name: str, raw: object) -> tuple[str, bool, dict[str, Any]]:
        result = await execute_tool(ctx, name, raw)
        return result.content, result.is_error, result.record

    return await run_agent(
        client,
        model=MODEL,
        system=f"You are the {role.name} agent.",
        task=render_task(task, "Do your part of the story."),
        tools=tool_params(role.tools),
        run_tool=run_tool,
        max_turns=max_turns,
    )


def _suite(repo: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *FAST_PYTEST.split()[1:], "-p", "no:cacheprovider"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.slow
async def test_qa_code_and_refactor_take_a_story_from_red_to_green(
    client: anthropic.AsyncAnthropic, tmp_path: Path
) -> None:
    repo = make_sample_repo(tmp_path / "repo")
    qa = await _run(client, repo, make_task(RoleName.QA, "Divide two numbers"))
    assert qa.stop_reason == "end_turn"
    assert "Failing as intended" in qa.final_text
    tests = "tests/test_divide_two_numbers.py"
    assert "getattr(calculator" in (repo / tests).read_text()
    red = [f"{tests}::test_divide_evenly", f"{tests}::test_divide_by_zero_raises_value_error"]
    code = await _run(
        client, repo, make_task(RoleName.CODE, "Divide two numbers", red_test_ids=red)
    )
    assert "pass now" in code.final_text
    refactor = await _run(client, repo, make_task(RoleName.REFACTOR, "Divide two numbers"))
    assert "is green" in refactor.final_text
    source = (repo / "calculator.py").read_text()
    assert '"""Return a divided by b; ValueError when b is zero."""' in source
    assert _suite(repo).returncode == 0
    assert code.input_tokens > 0
    assert code.output_tokens > 0


async def test_traversal_attempts_are_all_refused_by_the_tools(
    client: anthropic.AsyncAnthropic, tmp_path: Path
) -> None:
    repo = make_sample_repo(tmp_path / "repo")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text("secret\n")
    (repo / ESCAPE_LINK).symlink_to(outside, target_is_directory=True)
    run = await _run(client, repo, make_task(RoleName.DESIGN, "Add [fault:traversal]"))
    assert "Traversal attempts: 6 refused, 0 allowed." in run.final_text
    assert (repo / "docs/design/S-1.md").is_file()
    assert not (outside / "awf-escape.txt").exists()
    assert not (tmp_path / "awf-escape.txt").exists()


async def test_an_endless_agent_is_stopped_by_the_turn_limit(
    client: anthropic.AsyncAnthropic, tmp_path: Path
) -> None:
    repo = make_sample_repo(tmp_path / "repo")
    run = await _run(client, repo, make_task(RoleName.DESIGN, "Add [fault:endless]"), max_turns=5)
    assert run.hit_max_turns
    assert run.turns == 5
