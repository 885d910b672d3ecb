"""A tiny local git repository (a calculator with one test) for the demo project."""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["make_sample_repo"]

_FILES = {
    "README.md": "# Calculator\n\nA tiny calculator the awf demo's agents extend, test first.\n",
    "calculator.py": '"""A tiny calculator."""\n\n\ndef identity(x: int) -> int:\n    return x\n',
    "tests/__init__.py": "",
    "tests/test_calculator.py": (
        "from calculator import identity\n\n\ndef test_identity() -> None:\n"
        "    assert identity(3) == 3\n"
    ),
}
_GIT_CONFIG = [
    "-c",
    "user.name=awf demo",
    "-c",
    "user.email=demo@awf.invalid",
    "-c",
    "commit.gpgsign=false",
    "-c",
    "init.defaultBranch=main",
]


def make_sample_repo(path: Path) -> Path:
    """``git init`` at ``path`` with one commit on ``main``; returns ``path``."""
    path.mkdir(parents=True, exist_ok=True)
    for name, text in _FILES.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    _git(path, "init", "--quiet")
    _git(path, "add", "--all")
    _git(path, "commit", "--quiet", "-m", "Initial commit: calculator skeleton")
    return path


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(  # noqa: S603 - fixed arguments
        ["git", *_GIT_CONFIG, *args],  # noqa: S607 - git from PATH, like a user would
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=30,
    )
