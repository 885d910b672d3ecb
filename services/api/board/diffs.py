"""Commit links and diffs for the story page's evidence.

A forge URL (https://github.com/o/r, GitLab, Gitea...) links to the forge's commit page. A
repository on a path this replica can read (`awf up`, the demo, a shared volume) is shown here:
`git show` of the one commit, time-boxed and size-capped, two at a time per replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CommitDiff", "commit_diff", "commit_url", "local_path"]

_SHA = re.compile(r"^[0-9a-f]{7,40}$")
_TIMEOUT_S = 5.0
_MAX_BYTES = 256_000
_SLOTS = asyncio.Semaphore(2)


@dataclass(frozen=True)
class CommitDiff:
    text: str | None
    note: str
    truncated: bool = False

    def lines(self) -> list[tuple[str, str]]:
        """(css class, line) for each line of the patch."""
        return [(_line_class(line), line) for line in (self.text or "").splitlines()]


def _line_class(line: str) -> str:
    if line.startswith(("+++", "---", "diff --git", "index ")):
        return "meta"
    if line.startswith("@@"):
        return "hunk"
    return {"+": "add", "-": "del"}.get(line[:1], "")


def commit_url(repo_url: str, sha: str | None) -> str | None:
    """The forge's page of `sha`, for an http(s) remote; None otherwise."""
    if not sha or not _SHA.match(sha) or not repo_url.startswith(("https://", "http://")):
        return None
    return f"{repo_url.removesuffix('/').removesuffix('.git')}/commit/{sha}"


def local_path(repo_url: str) -> Path | None:
    raw = repo_url.removeprefix("file://")
    if not raw.startswith("/"):
        return None
    path = Path(raw)
    return path if path.is_dir() else None


async def commit_diff(repo_url: str, sha: str) -> CommitDiff:
    path = local_path(repo_url)
    if path is None:
        link = commit_url(repo_url, sha)
        where = f" See {link}." if link else ""
        return CommitDiff(None, f"The repository is not on a path this replica can read.{where}")
    async with _SLOTS:
        return await _git_show(path, sha)


async def _git_show(path: Path, sha: str) -> CommitDiff:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat"}
    process = await asyncio.create_subprocess_exec(
        "git", "-C", str(path), "show", "--no-color", "--stat", "--patch", "--format=fuller",
        sha, "--",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    try:
        async with asyncio.timeout(_TIMEOUT_S):  # not wait_for: CPython gh-86296 on 3.11
            out, err = await _read(process)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()
        return CommitDiff(None, f"git show {sha} took longer than {_TIMEOUT_S:g} s.")
    if process.returncode != 0:
        return CommitDiff(None, f"git show {sha} failed: {err.decode(errors='replace')[:300]}")
    truncated = len(out) > _MAX_BYTES
    text = out[:_MAX_BYTES].decode(errors="replace")
    return CommitDiff(text, f"Commit {sha} in {path}", truncated)


async def _read(process: asyncio.subprocess.Process) -> tuple[bytes, bytes]:
    stdout, stderr = process.stdout, process.stderr
    if stdout is None or stderr is None:
        raise RuntimeError("git show was started without pipes")
    out = await stdout.read(_MAX_BYTES + 1)
    if len(out) > _MAX_BYTES:
        process.kill()
    err = await stderr.read(4_000)
    await process.wait()
    return out, err
