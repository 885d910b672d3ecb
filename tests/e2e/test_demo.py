"""`awf demo` runs start to finish on its own private stack."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.e2e.conftest import run_awf

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.timeout(120)
def test_demo_walks_a_sprint_and_cleans_up(awf_env: dict[str, str]) -> None:
    started = time.monotonic()
    result = run_awf(awf_env, "demo", timeout=90)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert time.monotonic() - started < 60
    out = result.stdout
    for line in (
        "1. Register the sample repository as a project",
        "project calculator registered",
        "3 stories proposed",
        "approved 3 stories",
        "Multiply",
        "now has priority 1",
        "BACKLOG_READY → SPRINT_PLANNED",
        "SPRINT_PLANNED → SPRINT_ACTIVE",
        "Timeline",
        "Demo walk complete.",
        "private stack stopped",
    ):
        assert line in out, line
    assert not (Path(awf_env["XDG_STATE_HOME"]) / "awf" / "session.json").exists()
