"""`awf demo` runs start to finish on its own private stack: agents really build the stories."""

from __future__ import annotations

import re
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
        "approved 3 stories",
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
    assert not (Path(awf_env["XDG_STATE_HOME"]) / "awf" / "session.json").exists()

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
