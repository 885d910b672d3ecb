"""`awf demo` runs start to finish on its own private stack: agents really build the stories, the
gateway's bot answers in the fake Discord, and the channel with a thread per story is printed."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import run_awf

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return done.stdout.strip()


@pytest.mark.timeout(420)
def test_demo_runs_a_sprint_with_agents_and_keeps_their_work(
    awf_env: dict[str, str], tmp_path: Path
) -> None:
    result = run_awf(awf_env, "demo", timeout=400)
    assert result.returncode == 0, (result.stdout[-3000:], result.stderr[-3000:])
    out = result.stdout
    for line in (
        "1. Register the sample repository as a project",
        "project calculator registered",
        "Add two numbers",
        "Subtract two numbers",
        "Multiply two numbers",
        "approved 2 stories",
        "now has priority 1",
        "BACKLOG_READY → SPRINT_PLANNED",
        "SPRINT_PLANNED → SPRINT_ACTIVE",
        "3 done",
        "Sprint review (data agent)",
        "Sprint summary:",
        "Demo walk complete.",
        "private stack stopped",
    ):
        assert line in out, line
    for title in ("Add two numbers", "Subtract two numbers"):  # piped: progress line by line
        assert len(set(re.findall(rf"'{title}': ([A-Z_]+) ", out))) >= 3, title  # phases seen
        assert re.search(rf"'{title}': \w+ done, attempt", out), title
    assert not (Path(awf_env["XDG_STATE_HOME"]) / "awf" / "session.json").exists()
    assert_transcript(out)
    fake_port = int(re.findall(r"fake Discord\s+at\s+http://127\.0\.0\.1:(\d+)", out)[0])
    assert not listening(fake_port), "the fake Discord outlived the demo"

    repo = Path(re.findall(r"stays at\s+(\S+)", out)[-1])
    branches = git("branch", "--list", "awf/*", "--format=%(refname:short)", cwd=repo).split()
    assert len(branches) == 3
    clone = tmp_path / "clone"
    git("clone", "--quiet", str(repo), str(clone), cwd=tmp_path)
    for branch in branches:  # what the agents produced passes its own tests
        git("checkout", "--quiet", branch, cwd=clone)
        suite = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=clone,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert suite.returncode == 0, (branch, suite.stdout[-2000:])
        assert " passed" in suite.stdout


def listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def assert_transcript(out: str) -> None:
    """The bot's answers to what the user did in Discord, then the channel and one thread per
    story with its phases, as the fake Discord recorded them."""
    approved = out.split("Approve the stories")[1].split("awf approve")[0]
    assert "✅ Approved by @tester" in approved  # the click, answered by the gateway's bot
    transcript = out.split("The project's Discord channel and story threads")[1]
    channel, *threads = transcript.split("🧵 thread ")
    for line in (
        "#general · the project's channel",
        "↳ tester: /project bind_channel project:calculator",
        "/project bind_channel: done",
        "📝 Stories proposed (1-3 of 3)",
        "✅ Approved by @tester",
        "🏃 Sprint sprint-",
        "↳ tester: /sprint status project:calculator",
        "/sprint status: done",
        "📊 The sprint review is ready",
    ):
        assert line in channel, line
    titles = sorted(thread.split(" · ")[0] for thread in threads)
    assert titles == ["Add two numbers", "Multiply two numbers", "Subtract two numbers"]
    for thread in threads:
        for phase in ("DESIGN", "TEST_RED", "CODE_GREEN", "REFACTOR", "COMMIT"):
            assert f"{phase} (attempt 1) started" in thread, (phase, thread)
            assert f"{phase} (attempt 1) passed" in thread, (phase, thread)
    assert "recorded by the local fake Discord" in threads[-1]
