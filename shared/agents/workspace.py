"""A job's git workspace: a clone on the story branch ``awf/<story-id>``.

The clone comes from the project's remote, or from a worker's mirror of it (`mirrors`); either
way pushes go to the remote itself. Every git call goes through :func:`gitproc.git`. Pushes name
the story branch explicitly (``refs/heads/awf/…:refs/heads/awf/…``) and are refused on the
default branch, so a job never moves the default branch; only an approved merge does.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.agents.gitproc import GIT_TIMEOUT_S, GitResult, WorkspaceError, check_remote, git
from shared.agents.gitread import branch_tips, changed_paths, git_diff, git_status

__all__ = [
    "GIT_TIMEOUT_S",
    "GitResult",
    "Tips",
    "Workspace",
    "WorkspaceError",
    "git",
    "git_diff",
    "git_status",
    "story_branch",
]

_STORY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_COMMIT_SUMMARY = re.compile(r"\[[^\]\n]* ([0-9a-f]{40}|[0-9a-f]{64})\] ")
_AGENT_EMAIL = "agent@awf.invalid"
# a workspace lives for one phase: no hook samples, no background gc or maintenance in it
_EPHEMERAL = ("-c", "gc.auto=0", "-c", "maintenance.auto=false")
_CLONE = ("--template=", *_EPHEMERAL, "--quiet", "--no-tags")


def story_branch(story_id: str) -> str:
    """``awf/<story-id>``; the id must be a safe ref component."""
    if not _STORY_ID.fullmatch(story_id) or ".." in story_id or story_id.endswith(".lock"):
        raise ValueError(f"story id {story_id!r} is not usable in a branch name")
    return f"awf/{story_id}"


@dataclass(frozen=True)
class Tips:
    """A local mirror of the remote, its branches' shas as of now, and an empty repository made
    by ``git init`` to copy. The workspace borrows the mirror's objects, so the mirror must
    outlive it."""

    source: Path
    heads: Mapping[str, str]
    skeleton: Path


@dataclass(frozen=True)
class Workspace:
    """A clone checked out on ``branch``; ``remote`` is where it pushes, ``base`` the commit
    it started from."""

    root: Path
    branch: str
    default_branch: str
    timeout_s: float = GIT_TIMEOUT_S
    remote: str = "origin"
    base: str = ""

    @classmethod
    async def clone(
        cls,
        remote: str,
        dest: Path,
        branch: str,
        default_branch: str,
        *,
        timeout_s: float = GIT_TIMEOUT_S,
        tips: Tips | None = None,
    ) -> Workspace:
        """Clone into ``dest`` and check out ``branch``: the remote's branch when it exists,
        else a new branch from the remote's ``default_branch``. With ``tips`` the clone comes
        from ``tips.source`` (a mirror), whose branches are known already."""
        if branch == default_branch:
            raise WorkspaceError(f"refusing to work on the default branch {default_branch!r}")
        ws = cls(dest, branch, default_branch, timeout_s, check_remote(remote))
        existed = await asyncio.to_thread(dest.exists)
        try:
            if tips is None:
                return await ws._clone_remote()
            return await ws._clone_mirror(tips)
        except BaseException:
            if not existed:
                ws.cleanup()
            raise

    async def _clone_remote(self) -> Workspace:
        args = ("clone", *_CLONE, "--no-checkout", "--", self.remote, str(self.root))
        await git(None, *args, timeout_s=self.timeout_s)
        wanted = (self.branch, self.default_branch)
        heads = await branch_tips(
            self.root, "refs/remotes/origin/", wanted, timeout_s=self.timeout_s
        )
        start = self._start(heads)
        new = ("--no-track", "-b") if start != self.branch else ("-B",)
        await self._git("checkout", "--quiet", *new, self.branch, f"origin/{start}")
        return dataclasses.replace(self, base=heads[start])

    async def _clone_mirror(self, tips: Tips) -> Workspace:
        """What ``git clone --shared`` does, in one git process instead of two and with no
        remote-tracking refs: a copy of an empty repository whose ``objects/info/alternates``
        names the mirror's object store (nothing copied, whatever the mirror holds), then a
        checkout of the start commit."""
        base = tips.heads[self._start(tips.heads)]
        await asyncio.to_thread(_borrowing_repo, tips, self.root)
        await self._git("checkout", "--quiet", "-B", self.branch, base)
        return dataclasses.replace(self, base=base)

    def _start(self, heads: Mapping[str, str]) -> str:
        """The branch to start from: the story branch if the remote has it, else the default."""
        if self.branch in heads:
            return self.branch
        if self.default_branch not in heads:
            raise WorkspaceError(f"the remote has no default branch {self.default_branch!r}")
        return self.default_branch

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
        if _head_file_branch(self.root) == self.branch:
            return self.branch
        result = await self._git("symbolic-ref", "--quiet", "--short", "HEAD", ok=(0, 1))
        return result.stdout.strip()

    async def commit(self, message: str, *, author: str = "awf agent") -> str | None:
        """Stage everything and commit; the new sha, or None when there is nothing to commit."""
        await self._git("add", "-A")
        identity = ("-c", f"user.name={author}", "-c", f"user.email={_AGENT_EMAIL}")
        settings = (*identity, *_EPHEMERAL, "-c", "commit.gpgsign=false", "-c", "core.abbrev=no")
        done = await self._git(*settings, "commit", "--no-verify", "-m", message, ok=(0, 1))
        if done.code == 1:  # git says 1 for "nothing to commit": make sure that is what it was
            staged = await self._git("diff", "--cached", "--quiet", ok=(0, 1))
            if staged.code == 0:
                return None
            raise WorkspaceError(f"git commit failed (exit 1): {done.stdout or done.stderr}")
        summary = _COMMIT_SUMMARY.match(done.stdout)  # "[awf/S-1 <full sha>] subject"
        return summary.group(1) if summary else await self.head()

    async def push(self) -> None:
        """Push the story branch, and only it, to the remote."""
        current = await self.current_branch()
        if self.default_branch in (current, self.branch):
            raise WorkspaceError(f"refusing to push the default branch {self.default_branch!r}")
        if current != self.branch:
            raise WorkspaceError(
                f"checked out {current or 'a detached HEAD'!r}, not {self.branch!r}"
            )
        ref = f"refs/heads/{self.branch}"
        await self._git("push", "--quiet", "--no-verify", "--", self.remote, f"{ref}:{ref}")

    async def push_pending(self, ref: str, commit: str = "HEAD") -> None:
        """Park ``commit`` on a scratch ref of the remote (``refs/awf/...``), not on any branch:
        a phase result waiting for a human's approval."""
        if not ref.startswith("refs/awf/"):
            raise WorkspaceError(f"pending results live under refs/awf/, not {ref!r}")
        args = ("push", "--quiet", "--no-verify", "--force")
        await self._git(*args, "--", self.remote, f"{commit}:{ref}")

    async def adopt(self, sha: str, ref: str) -> Workspace:
        """Move the story branch to an approved pending result and push it (fast-forward only);
        the workspace now based on it."""
        await self._git("fetch", "--quiet", "--no-tags", "--", self.remote, ref)
        fetched = (await self._git("rev-parse", "FETCH_HEAD")).stdout.strip()
        if fetched != sha:
            raise WorkspaceError(f"the pending result {ref} is {fetched[:12]}, not {sha[:12]}")
        await self._git("merge", "--quiet", "--ff-only", sha)
        await self.push()
        return dataclasses.replace(self, base=sha)

    async def changed_files(self, since: str) -> list[str]:
        """Files that differ between commit ``since`` and the working tree (committed or not),
        new untracked files included."""
        return await changed_paths(self.root, since, timeout_s=self.timeout_s)

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


def _borrowing_repo(tips: Tips, root: Path) -> None:
    shutil.copytree(tips.skeleton / ".git", root / ".git")
    alternates = root / ".git" / "objects" / "info" / "alternates"
    alternates.write_text(f"{(tips.source / 'objects').resolve()}\n", encoding="utf-8")


def _head_file_branch(root: Path) -> str | None:
    """The branch ``.git/HEAD`` names, without a process. Only a match is trusted: git's files
    backend keeps HEAD there, and any other layout (reftable, a worktree) falls back to git."""
    try:
        text = (root / ".git" / "HEAD").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    head = text.strip()
    return head.removeprefix("ref: refs/heads/") if head.startswith("ref: refs/heads/") else None
