"""The only code that writes a project's default branch: an approved merge of a story branch.

Agents' workspaces (`workspace.Workspace`) refuse the default branch; this one works on it, and
only to merge a story branch with a merge commit, so the history shows what landed and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from shared.agents.workspace import GIT_TIMEOUT_S, GitResult, WorkspaceError, git

__all__ = ["MergeWorkspace"]

_IDENTITY = ("-c", "user.name=awf orchestrator", "-c", "user.email=orchestrator@awf.invalid")


@dataclass(frozen=True)
class MergeWorkspace:
    root: Path
    default_branch: str
    timeout_s: float = GIT_TIMEOUT_S

    @classmethod
    async def clone(cls, remote: str, dest: Path, default_branch: str) -> MergeWorkspace:
        if not remote or remote.startswith("-") or remote.lower().startswith("ext::"):
            raise WorkspaceError(f"unsupported git remote {remote!r}")
        await git(None, "clone", "--quiet", "--no-tags", "--", remote, str(dest))
        ws = cls(dest, default_branch)
        await ws._git("checkout", "--quiet", "-B", default_branch, f"origin/{default_branch}")
        return ws

    async def merge(self, branch: str, message: str) -> str:
        """Merge ``origin/<branch>`` with a merge commit; conflicts abort it and raise."""
        merged = await self._git(
            *_IDENTITY,
            "-c",
            "commit.gpgsign=false",
            "merge",
            "--no-ff",
            "--no-edit",
            "-m",
            message,
            f"origin/{branch}",
            ok=(0, 1),
        )
        if merged.code != 0:
            conflicts = (await self._git("diff", "--name-only", "--diff-filter=U")).stdout.split()
            await self._git("merge", "--abort", ok=(0, 128))
            raise WorkspaceError(
                f"{branch} does not merge cleanly; conflicts in {conflicts or '?'}."
            )
        return (await self._git("rev-parse", "HEAD")).stdout.strip()

    async def changed_files(self) -> list[str]:
        """What the merge commit at HEAD brings to the default branch."""
        diff = await self._git("diff", "--name-only", "-z", "HEAD^1", "HEAD")
        return [name for name in diff.stdout.split("\0") if name]

    async def push(self) -> None:
        """Fast-forward the remote's default branch to the merge (never forced)."""
        ref = f"refs/heads/{self.default_branch}"
        await self._git("push", "--quiet", "--no-verify", "origin", f"HEAD:{ref}")

    async def _git(self, *args: str, ok: tuple[int, ...] = (0,)) -> GitResult:
        return await git(self.root, *args, timeout_s=self.timeout_s, ok=ok)
