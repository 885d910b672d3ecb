"""Helpers for driving `awf` as a user would: real processes, a private state dir."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

__all__: list[str] = []

_CLEARED = ("REDIS_URL", "JWT_SECRET", "AWF_API_URL", "AWF_TOKEN", "AWF_PROJECT", "AWF_ENV")


def awf_command() -> list[str]:
    """The venv's `awf` console script, else the module."""
    script = Path(sys.executable).parent / "awf"
    return [str(script)] if script.exists() else [sys.executable, "-m", "services.cli.main"]


@pytest.fixture
def awf_env(tmp_path: Path) -> dict[str, str]:
    """The caller's environment with a private XDG_STATE_HOME and no stack settings."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env |= {"XDG_STATE_HOME": str(tmp_path / "state"), "COLUMNS": "200", "NO_COLOR": "1"}
    return env


def run_awf(
    env: dict[str, str], *args: str, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*awf_command(), *args], env=env, capture_output=True, text=True, timeout=timeout
    )
