"""P5's git floor: the seven git commands a phase runs, run bare, one after another.

A phase fetches into its worker's bare mirror, reads the branch tips there, checks the story
branch out in a fresh repository borrowing the mirror's objects, lists its changes, stages,
commits and pushes to the remote. Here the same commands run on the sample repository with
plain ``subprocess.run`` and no orchestration around them: what the git CLI itself costs per
phase on this machine, measured in the same run as ours.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from services.cli.sample_repo import make_sample_repo

__all__ = ["GIT_FLOOR_COMMANDS", "bare_git_phase_ms"]

GIT_FLOOR_COMMANDS = 7
_HEADS = "+refs/heads/*:refs/heads/*"
_IDENTITY = ("-c", "user.name=floor", "-c", "user.email=floor@awf.invalid")
_QUIET = ("-c", "gc.auto=0", "-c", "maintenance.auto=false", "-c", "commit.gpgsign=false")


def bare_git_phase_ms(samples: int) -> list[float]:
    """Milliseconds per phase's worth of git commands, ``samples`` times (after one warm-up)."""
    with tempfile.TemporaryDirectory(prefix="awf-git-floor-") as scratch:
        root = Path(scratch)
        remote = _bare_remote(root)
        mirror = root / "mirror.git"
        _git(
            None, "clone", "--bare", "--no-local", "--quiet", "--no-tags", str(remote), str(mirror)
        )
        skeleton = root / "skeleton"
        _git(None, "init", "--quiet", "--template=", str(skeleton))
        took = [_one_phase(root, remote, mirror, skeleton, n) for n in range(samples + 1)]
        return took[1:]


def _bare_remote(root: Path) -> Path:
    made = make_sample_repo(root / "sample")
    remote = root / "remote.git"
    _git(None, "clone", "--bare", "--quiet", str(made), str(remote))
    return remote


def _one_phase(root: Path, remote: Path, mirror: Path, skeleton: Path, n: int) -> float:
    ws = root / f"ws-{n}"
    began = time.perf_counter()
    _git(
        mirror,
        "fetch",
        "--quiet",
        "--prune",
        "--no-tags",
        "--no-write-fetch-head",
        str(remote),
        _HEADS,
    )
    tips = _git(mirror, "for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/")
    start = dict(line.split()[::-1] for line in tips.splitlines())
    base = start.get("refs/heads/awf/floor", start["refs/heads/main"])
    shutil.copytree(skeleton / ".git", ws / ".git")
    (ws / ".git" / "objects" / "info" / "alternates").write_text(f"{mirror / 'objects'}\n")
    _git(ws, "checkout", "--quiet", "-B", "awf/floor", base)
    (ws / f"phase_{n}.md").write_text(f"phase {n}\n")
    _git(ws, "status", "--porcelain=v1", "--untracked-files=all")
    _git(ws, "add", "-A")
    _git(ws, *_IDENTITY, *_QUIET, "commit", "--quiet", "--no-verify", "-m", f"phase {n}")
    _git(ws, "push", "--quiet", "--no-verify", "--", str(remote), "HEAD:refs/heads/awf/floor")
    took = (time.perf_counter() - began) * 1000
    shutil.rmtree(ws, ignore_errors=True)
    return took


def _git(cwd: Path | None, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "core.hooksPath=/dev/null", *args],  # hooks off, as our git calls
        cwd=cwd,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    return done.stdout
