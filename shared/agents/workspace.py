"""A job's git workspace: a clone of the project's remote on the story branch ``awf/<story-id>``.

Every git call runs without a shell, with a timeout, hooks disabled and the ``ext::`` transport
refused; a failure raises :class:`WorkspaceError` naming the command and git's message. Pushes
name the story branch explicitly (``refs/heads/awf/…:refs/heads/awf/…``) and are refused on the
default branch, so a job never moves the default branch; only an approved merge does.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "GIT_TIMEOUT_S",
    "Workspace",
    "WorkspaceError",
    "git",
    "git_diff",
    "git_status",
    "story_branch",
]

GIT_TIMEOUT_S = 120.0
_SAFE_CONFIG = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "protocol.ext.allow=never",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "core.quotepath=off",
)
_STORY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_AGENT_EMAIL = "agent@awf.invalid"
_MAX_UNTRACKED_DIFFS = 50


class WorkspaceError(Exception):
    """A git operation failed or was refused."""


def story_branch(story_id: str) -> str:
    """``awf/<story-id>``; the id must be a safe ref component."""
    if not _STORY_ID.fullmatch(story_id) or ".." in story_id or story_id.endswith(".lock"):
        raise ValueError(f"story id {story_id!r} is not usable in a branch name")
    return f"awf/{story_id}"


@dataclass(frozen=True)
class GitResult:
    code: int
    stdout: str
    stderr: str


def _git_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    return env


async def git(
    cwd: Path | None,
    *args: str,
    timeout_s: float = GIT_TIMEOUT_S,
    ok: Iterable[int] = (0,),
) -> GitResult:
    """Run ``git <args>`` in ``cwd``; :class:`WorkspaceError` on timeout or an unexpected code."""
    what = f"git {_subcommand(args)}"
    try:
        proc = await asyncio.create_subprocess_exec(
            "git",
            *_SAFE_CONFIG,
            *args,
            cwd=cwd,
            env=_git_env(),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise WorkspaceError(f"{what} could not start: {exc}") from exc
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout=timeout_s)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise WorkspaceError(f"{what} timed out after {timeout_s:g} s") from None
    except BaseException:  # cancelled: do not leave git running
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        raise
    result = GitResult(
        proc.returncode if proc.returncode is not None else -1,
        out.decode("utf-8", errors="replace"),
        err.decode("utf-8", errors="replace"),
    )
    if result.code not in tuple(ok):
        message = result.stderr.strip() or result.stdout.strip() or "no output"
        raise WorkspaceError(f"{what} failed (exit {result.code}): {message[:2000]}")
    return result


def _subcommand(args: tuple[str, ...]) -> str:
    skip = False
    for arg in args:
        if skip or arg == "-c":
            skip = not skip
            continue
        if not arg.startswith("-"):
            return arg
    return " ".join(args[:1])


async def git_status(root: Path, *, timeout_s: float = GIT_TIMEOUT_S) -> list[str]:
    """``git status --porcelain`` lines (untracked files listed one by one)."""
    result = await git(
        root, "status", "--porcelain=v1", "--untracked-files=all", timeout_s=timeout_s
    )
    return [line for line in result.stdout.splitlines() if line.strip()]


async def _untracked(root: Path, path: str | None, timeout_s: float) -> list[str]:
    args = ["ls-files", "--others", "--exclude-standard"]
    result = await git(root, *args, *(["--", path] if path else []), timeout_s=timeout_s)
    return [line for line in result.stdout.splitlines() if line]


async def git_diff(root: Path, path: str | None = None, *, timeout_s: float = GIT_TIMEOUT_S) -> str:
    """The working tree against HEAD, new (untracked) files included as additions."""
    opts = ("--no-color", "--no-ext-diff", "--no-textconv")
    tracked = await git(
        root, "diff", *opts, "HEAD", *(["--", path] if path else []), timeout_s=timeout_s
    )
    parts = [tracked.stdout]
    for name in (await _untracked(root, path, timeout_s))[:_MAX_UNTRACKED_DIFFS]:
        new = await git(
            root,
            "diff",
            *opts,
            "--no-index",
            "--",
            "/dev/null",
            name,
            timeout_s=timeout_s,
            ok=(0, 1),
        )
        parts.append(new.stdout)
    return "".join(parts)


@dataclass(frozen=True)
class Workspace:
    """A clone of a project's remote, checked out on ``branch``."""

    root: Path
    branch: str
    default_branch: str
    timeout_s: float = GIT_TIMEOUT_S

    @classmethod
    async def clone(
        cls,
        remote: str,
        dest: Path,
        branch: str,
        default_branch: str,
        *,
        timeout_s: float = GIT_TIMEOUT_S,
    ) -> Workspace:
        """Clone ``remote`` into ``dest`` and check out ``branch``: the remote's branch when it
        exists, else a new branch from the remote's ``default_branch``."""
        if branch == default_branch:
            raise WorkspaceError(f"refusing to work on the default branch {default_branch!r}")
        if not remote or remote.startswith("-") or remote.lower().startswith("ext::"):
            raise WorkspaceError(f"unsupported git remote {remote!r}")
        existed = await asyncio.to_thread(dest.exists)
        ws = cls(dest, branch, default_branch, timeout_s)
        try:
            await git(
                None, "clone", "--quiet", "--no-tags", "--", remote, str(dest), timeout_s=timeout_s
            )
            await ws._checkout()
        except BaseException:
            if not existed:
                ws.cleanup()
            raise
        return ws

    async def _checkout(self) -> None:
        if await self._has_ref(f"refs/remotes/origin/{self.branch}"):
            await self._git("checkout", "--quiet", "-B", self.branch, f"origin/{self.branch}")
            return
        base = f"refs/remotes/origin/{self.default_branch}"
        if not await self._has_ref(base):
            raise WorkspaceError(f"the remote has no default branch {self.default_branch!r}")
        await self._git("checkout", "--quiet", "--no-track", "-b", self.branch, base)

    async def _has_ref(self, ref: str) -> bool:
        result = await self._git("rev-parse", "--verify", "--quiet", ref, ok=(0, 1))
        return result.code == 0

    async def _git(self, *args: str, ok: Iterable[int] = (0,)) -> GitResult:
        return await git(self.root, *args, timeout_s=self.timeout_s, ok=ok)

    async def status(self) -> list[str]:
        return await git_status(self.root, timeout_s=self.timeout_s)

    async def diff(self, path: str | None = None) -> str:
        return await git_diff(self.root, path, timeout_s=self.timeout_s)

    async def is_clean(self) -> bool:
        return not await self.status()

    async def head(self) -> str:
        return (await self._git("rev-parse", "HEAD")).stdout.strip()

    async def current_branch(self) -> str:
        result = await self._git("symbolic-ref", "--quiet", "--short", "HEAD", ok=(0, 1))
        return result.stdout.strip()

    async def commit(self, message: str, *, author: str = "awf agent") -> str | None:
        """Stage everything and commit; the new sha, or None when there is nothing to commit."""
        await self._git("add", "-A")
        staged = await self._git("diff", "--cached", "--quiet", ok=(0, 1))
        if staged.code == 0:
            return None
        await self._git(
            "-c",
            f"user.name={author}",
            "-c",
            f"user.email={_AGENT_EMAIL}",
            "-c",
            "commit.gpgsign=false",
            "commit",
            "--quiet",
            "--no-verify",
            "-m",
            message,
        )
        return await self.head()

    async def push(self) -> None:
        """Push the story branch, and only it, to origin."""
        current = await self.current_branch()
        if self.default_branch in (current, self.branch):
            raise WorkspaceError(f"refusing to push the default branch {self.default_branch!r}")
        if current != self.branch:
            raise WorkspaceError(
                f"checked out {current or 'a detached HEAD'!r}, not {self.branch!r}"
            )
        ref = f"refs/heads/{self.branch}"
        await self._git("push", "--quiet", "--no-verify", "origin", f"{ref}:{ref}")

    async def push_pending(self, ref: str) -> None:
        """Park HEAD on a scratch ref of the remote (``refs/awf/...``), not on any branch: a
        phase result waiting for a human's approval."""
        if not ref.startswith("refs/awf/"):
            raise WorkspaceError(f"pending results live under refs/awf/, not {ref!r}")
        await self._git("push", "--quiet", "--no-verify", "--force", "origin", f"HEAD:{ref}")

    async def adopt(self, sha: str, ref: str) -> None:
        """Move the story branch to an approved pending result and push it (fast-forward only)."""
        await self._git("fetch", "--quiet", "--no-tags", "origin", ref)
        fetched = (await self._git("rev-parse", "FETCH_HEAD")).stdout.strip()
        if fetched != sha:
            raise WorkspaceError(f"the pending result {ref} is {fetched[:12]}, not {sha[:12]}")
        await self._git("merge", "--quiet", "--ff-only", sha)
        await self.push()

    async def changed_files(self, since: str) -> list[str]:
        """Files that differ between commit ``since`` and the working tree (committed or not),
        new untracked files included."""
        diff = await self._git("diff", "--name-only", "--no-renames", since)
        files = {line for line in diff.stdout.splitlines() if line}
        files.update(await _untracked(self.root, None, self.timeout_s))
        return sorted(files)

    def file_digests(self, paths: Iterable[str]) -> dict[str, str]:
        """sha256 of each existing file (missing files are left out)."""
        digests: dict[str, str] = {}
        for rel in paths:
            target = self.root / rel
            if target.is_file():
                digests[rel] = hashlib.sha256(target.read_bytes()).hexdigest()
        return digests

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
