"""A worker's bare mirrors of its projects' remotes, so a phase clones locally.

One mirror per remote, made once with ``git clone --bare --no-local`` (a pack of its own, no
file shared with a local remote) and brought up to date by one ``git fetch`` (explicit refspec,
pruned) before each workspace is cloned from it. The workspace borrows the mirror's objects
(``clone --shared``: nothing copied or linked, whatever the mirror's size) and pushes to the
remote itself, never to the mirror.

Per mirror, an asyncio.Lock serialises fetch and clone. The cache keeps at most
``max_mirrors`` mirrors, least recently used out first, never one a checkout is waiting for. A
mirror git fails on is replaced by a new copy from the remote, once; a replaced or evicted copy
is deleted when the last workspace borrowing from it ends. Working trees are deleted after use
in the background, off the phase's path.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import shutil
import tempfile
from collections import Counter, OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import structlog

from shared.agents.gitproc import GIT_TIMEOUT_S, WorkspaceError, check_remote, git
from shared.agents.gitread import branch_tips
from shared.agents.workspace import Tips, Workspace

__all__ = ["MirrorCache"]

log = structlog.get_logger("agents.mirrors")
_HEADS = "+refs/heads/*:refs/heads/*"


@dataclass
class _Mirror:
    remote: str
    path: Path  # the current copy
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    checkouts: int = 0  # waiting for or holding the lock: never evicted meanwhile
    fetches: int = 0  # since the current copy was made


class MirrorCache:
    """Mirrors and working trees under ``root`` (a fresh temp dir when None)."""

    def __init__(
        self,
        root: Path | None = None,
        *,
        max_mirrors: int = 8,
        maintain_every: int = 32,
        timeout_s: float = GIT_TIMEOUT_S,
    ) -> None:
        self._root, self._own_root = root, root is None
        self.max_mirrors = max_mirrors
        self._maintain_every = maintain_every
        self._timeout_s = timeout_s
        self._mirrors: OrderedDict[str, _Mirror] = OrderedDict()
        self._borrowers: Counter[Path] = Counter()  # live workspaces per mirror copy
        self._retired: set[Path] = set()  # copies to delete once nothing borrows from them
        self._serial = itertools.count(1)
        self._deleting: set[asyncio.Task[None]] = set()
        self._making_skeleton = asyncio.Lock()

    def mirror_path(self, remote: str) -> Path | None:
        """Where the current mirror of ``remote`` is, if the cache holds one."""
        found = self._mirrors.get(remote)
        return found.path if found else None

    @contextlib.asynccontextmanager
    async def workspace(
        self, remote: str, branch: str, default_branch: str
    ) -> AsyncIterator[Workspace]:
        """A fresh clone on ``branch`` (see `Workspace.clone`), deleted after the block."""
        if branch == default_branch:
            raise WorkspaceError(f"refusing to work on the default branch {default_branch!r}")
        check_remote(remote)
        root = await self._ready()
        dest = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="awf-ws-", dir=root / "ws"))
        source: Path | None = None
        try:
            ws, source = await self._checkout(remote, dest / "repo", branch, default_branch)
            yield ws
        finally:
            self._delete_later(dest)
            if source is not None:
                self._give_back(source)

    async def settle(self) -> None:
        """Wait until every deletion started so far is done."""
        await asyncio.gather(*self._deleting, return_exceptions=True)

    async def close(self) -> None:
        """Wait for pending deletions, then delete every mirror and working tree."""
        await self.settle()
        self._mirrors.clear()
        self._borrowers.clear()
        self._retired.clear()
        if self._root is not None:
            doomed = [self._root] if self._own_root else [self._root / "mirrors", self._root / "ws"]
            for path in doomed:
                await asyncio.to_thread(shutil.rmtree, path, ignore_errors=True)

    async def _checkout(
        self, remote: str, dest: Path, branch: str, default: str
    ) -> tuple[Workspace, Path]:
        """A clone from the remote's mirror, and the mirror copy it borrows objects from."""
        mirror = self._take(remote)
        try:
            async with mirror.lock:
                ws = await self._clone_healing(mirror, dest, branch, default)
                self._borrowers[mirror.path] += 1
                return ws, mirror.path
        finally:
            mirror.checkouts -= 1

    async def _clone_healing(
        self, mirror: _Mirror, dest: Path, branch: str, default: str
    ) -> Workspace:
        """Fetch and clone; when git fails on a copy made earlier, make a new one and retry."""
        try:
            return await self._clone(mirror, dest, branch, default)
        except WorkspaceError as exc:
            if mirror.fetches == 0:  # made just now from the remote: the remote is the problem
                raise
            log.warning("mirror_replaced", remote=mirror.remote, error=str(exc)[:500])
            self._retire(mirror.path)
            mirror.path = _new_path(mirror.path.parent, mirror.remote, next(self._serial))
            return await self._clone(mirror, dest, branch, default)

    async def _clone(self, mirror: _Mirror, dest: Path, branch: str, default: str) -> Workspace:
        await self._refresh(mirror)
        heads = await branch_tips(
            mirror.path, "refs/heads/", (branch, default), timeout_s=self._timeout_s
        )
        tips = Tips(mirror.path, heads, self._made_root / "skeleton")
        return await Workspace.clone(
            mirror.remote, dest, branch, default, timeout_s=self._timeout_s, tips=tips
        )

    async def _refresh(self, mirror: _Mirror) -> None:
        """Make the mirror if it is missing, else fetch every branch of the remote into it."""
        if not mirror.path.exists():
            mirror.fetches = 0
            await self._create(mirror)
            return
        mirror.fetches += 1
        quiet = mirror.fetches % self._maintain_every != 0  # housekeeping now and then only
        await git(
            mirror.path,
            "-c",
            "gc.autoDetach=false",  # housekeeping, if any, under the lock, not behind it
            "fetch",
            "--quiet",
            "--prune",
            "--no-tags",
            "--no-write-fetch-head",
            *(["--no-auto-maintenance"] if quiet else []),
            "--",
            mirror.remote,
            _HEADS,
            timeout_s=self._timeout_s,
        )

    async def _create(self, mirror: _Mirror) -> None:
        args = ("clone", "--bare", "--no-local", "--template=", "--quiet", "--no-tags")
        try:
            await git(None, *args, "--", mirror.remote, str(mirror.path), timeout_s=self._timeout_s)
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, mirror.path, ignore_errors=True)
            raise
        log.info("mirror_created", remote=mirror.remote, path=str(mirror.path))

    def _take(self, remote: str) -> _Mirror:
        """The remote's mirror, counted as wanted, most recently used; idle extras evicted."""
        mirror = self._mirrors.get(remote)
        if mirror is None:
            path = _new_path(self._made_root / "mirrors", remote, next(self._serial))
            mirror = self._mirrors[remote] = _Mirror(remote, path)
        self._mirrors.move_to_end(remote)
        mirror.checkouts += 1
        idle = [m for m in self._mirrors.values() if m.checkouts == 0]
        for evicted in idle[: max(0, len(self._mirrors) - self.max_mirrors)]:
            del self._mirrors[evicted.remote]
            self._retire(evicted.path)
        return mirror

    @property
    def _made_root(self) -> Path:
        if self._root is None:
            raise RuntimeError("the cache's root is made by _ready() first")
        return self._root

    def _give_back(self, path: Path) -> None:
        self._borrowers[path] -= 1
        if self._borrowers[path] <= 0:
            del self._borrowers[path]
            if path in self._retired:
                self._retire(path)

    def _retire(self, path: Path) -> None:
        """Delete a copy no longer current: now, or when its last borrower ends."""
        if self._borrowers[path] > 0:
            self._retired.add(path)
            return
        self._borrowers.pop(path, None)
        self._retired.discard(path)
        self._delete_later(path)

    async def _ready(self) -> Path:
        """The root, with its ``mirrors`` and ``ws`` directories and the empty repository
        workspaces start as (``skeleton``, made by ``git init``)."""
        if self._root is None:
            self._root = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="awf-mirrors-"))
        for name in ("mirrors", "ws"):
            if not (self._root / name).is_dir():
                await asyncio.to_thread((self._root / name).mkdir, parents=True, exist_ok=True)
        skeleton = self._root / "skeleton"
        async with self._making_skeleton:
            if not (skeleton / ".git" / "HEAD").is_file():
                await asyncio.to_thread(shutil.rmtree, skeleton, ignore_errors=True)
                args = ("init", "--quiet", "--template=", str(skeleton))
                await git(None, *args, timeout_s=self._timeout_s)
        return self._root

    def _delete_later(self, path: Path) -> None:
        task = asyncio.create_task(asyncio.to_thread(shutil.rmtree, path, ignore_errors=True))
        self._deleting.add(task)
        task.add_done_callback(self._deleting.discard)


def _new_path(folder: Path, remote: str, serial: int) -> Path:
    """A copy's own path: a replaced or evicted copy never shares it with its successor."""
    digest = hashlib.sha256(remote.encode()).hexdigest()[:16]
    return folder / f"{digest}-{serial}.git"
