"""`awf up` as a real process, then a whole Scrum walk through `awf` calls, then Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.cli.sample_repo import make_sample_repo
from services.cli.session import Session, pid_alive, read_session
from services.cli.stack import free_port
from tests.e2e.conftest import awf_command, run_awf

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


class Up:
    def __init__(self, process: subprocess.Popen[bytes], session_file: Path, log: Path) -> None:
        self.process = process
        self.session_file = session_file
        self.log = log

    def wait_for_session(self, timeout: float = 40) -> Session:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            session = read_session(self.session_file)
            if session is not None:
                return session
            if self.process.poll() is not None:
                pytest.fail(f"awf up exited {self.process.returncode}:\n{self.log.read_text()}")
            time.sleep(0.1)
        pytest.fail(f"no session file after {timeout}s:\n{self.log.read_text()}")


@pytest.fixture
def up(awf_env: dict[str, str], tmp_path: Path) -> Iterator[Up]:
    log = tmp_path / "up.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*awf_command(), "up", "--port", str(free_port()), "--workers", "0"],
            env=awf_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    handle = Up(process, Path(awf_env["XDG_STATE_HOME"]) / "awf" / "session.json", log)
    try:
        yield handle
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _ok(env: dict[str, str], *args: str) -> str:
    result = run_awf(env, *args)
    assert result.returncode == 0, (args, result.stdout, result.stderr)
    return result.stdout


def _wait_gone(pids: list[int], timeout: float = 15) -> list[int]:
    deadline = time.monotonic() + timeout
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [p for p in alive if pid_alive(p)]
        time.sleep(0.1)
    return alive


@pytest.mark.timeout(120)
def test_a_scrum_walk_through_the_cli(up: Up, awf_env: dict[str, str], tmp_path: Path) -> None:
    session = up.wait_for_session()
    assert os.stat(up.session_file).st_mode & 0o777 == 0o600
    assert {"awf", "redis"} <= set(session.pids)
    repo = make_sample_repo(tmp_path / "calculator")

    assert "registered" in _ok(awf_env, "project", "register", str(repo), "--id", "calc")
    assert "active" in _ok(awf_env, "project", "start", "calc")
    out = _ok(awf_env, "epic", "Arithmetic", "--story", "Add", "--story", "Subtract")
    assert "2 stories proposed" in out
    assert "IDLE → BACKLOG_READY" in out
    assert "approved 2 stories" in _ok(awf_env, "approve")
    assert "Add" in _ok(awf_env, "backlog", "view")
    assert "BACKLOG_READY → SPRINT_PLANNED" in _ok(awf_env, "sprint", "plan", "--goal", "math")
    assert "SPRINT_PLANNED → SPRINT_ACTIVE" in _ok(awf_env, "sprint", "start")

    state = json.loads(_ok(awf_env, "state", "--json"))
    assert state["result"]["state"] == "SPRINT_ACTIVE"
    assert state["result"]["sprint"]["counts"] == {"sprint": 2}

    assert "SPRINT_ACTIVE → SPRINT_PAUSED" in _ok(awf_env, "-p", "calc", "sprint", "pause")
    assert "SPRINT_PAUSED → SPRINT_ACTIVE" in _ok(awf_env, "sprint", "resume")

    refused = run_awf(awf_env, "epic", "Too late")
    assert refused.returncode == 1, refused
    assert "not allowed in state SPRINT_ACTIVE" in refused.stderr
    assert "Allowed commands:" in refused.stderr
    assert "awf sprint pause" in refused.stderr

    up.process.send_signal(signal.SIGINT)
    assert up.process.wait(30) == 0
    assert _wait_gone(list(session.pids.values())) == []
    assert not up.session_file.exists()


@pytest.mark.timeout(120)
def test_cli_without_a_stack_says_to_run_awf_up(awf_env: dict[str, str]) -> None:
    result = run_awf(awf_env, "state")
    assert result.returncode == 3
    assert "awf up" in result.stderr
