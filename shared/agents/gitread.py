"""Read-only views of a working tree: status, diff, and the files changed since a commit."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from shared.agents.gitproc import GIT_TIMEOUT_S, git

__all__ = ["branch_tips", "changed_paths", "git_diff", "git_status", "parse_status_v2"]

_MAX_UNTRACKED_DIFFS = 50
_FIELDS_BEFORE_PATH = {"1": 8, "2": 9, "u": 10}  # `git status --porcelain=v2` entry layouts


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


async def branch_tips(
    repo: Path, prefix: str, names: Iterable[str], *, timeout_s: float = GIT_TIMEOUT_S
) -> dict[str, str]:
    """``{name: sha}`` of the refs ``<prefix><name>`` that exist in ``repo`` (one process)."""
    wanted = {f"{prefix}{name}": name for name in names}
    listed = await git(
        repo, "for-each-ref", "--format=%(objectname) %(refname)", *wanted, timeout_s=timeout_s
    )
    tips = (line.split(" ", 1) for line in listed.stdout.splitlines() if " " in line)
    return {wanted[ref]: sha for sha, ref in tips if ref in wanted}


async def changed_paths(root: Path, since: str, *, timeout_s: float = GIT_TIMEOUT_S) -> list[str]:
    """Files that differ between commit ``since`` and the working tree (committed or not), new
    untracked files included, sorted.

    One ``git status`` while HEAD is still ``since`` (nothing was committed: the usual case);
    otherwise a diff against ``since`` plus the untracked files, so a commit made behind our back
    (by code the tests ran) hides nothing."""
    status = await git(
        root,
        "status",
        "--porcelain=v2",
        "-z",
        "--branch",
        "--untracked-files=all",
        "--no-renames",
        timeout_s=timeout_s,
    )
    head, paths = parse_status_v2(status.stdout)
    if head != since:
        args = ("diff", "--name-only", "-z", "--no-renames", since, "--")
        diff = await git(root, *args, timeout_s=timeout_s)
        others = ("ls-files", "-z", "--others", "--exclude-standard")
        untracked = await git(root, *others, timeout_s=timeout_s)
        paths = {p for p in (diff.stdout + untracked.stdout).split("\0") if p}
    return sorted(paths)


def parse_status_v2(out: str) -> tuple[str | None, set[str]]:
    """(HEAD's sha or None, every path named) of ``git status --porcelain=v2 -z --branch``."""
    head: str | None = None
    paths: set[str] = set()
    records = iter(out.split("\0"))
    for record in records:
        kind = record[:1]
        if record.startswith("# branch.oid "):
            oid = record.removeprefix("# branch.oid ")
            head = None if oid == "(initial)" else oid
        elif kind == "?":
            paths.add(record[2:])
        elif kind in _FIELDS_BEFORE_PATH:
            paths.add(record.split(" ", _FIELDS_BEFORE_PATH[kind])[-1])
            if kind == "2":  # a rename or copy: the source path is the next record
                paths.add(next(records, ""))
    paths.discard("")
    return head, paths
