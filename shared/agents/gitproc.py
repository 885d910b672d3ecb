"""One git process: no shell, a timeout, hooks off, the ``ext::`` transport refused.

Every git call of the agents' workspaces and mirrors goes through :func:`git`; a failure raises
:class:`WorkspaceError` naming the command and git's message.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GIT_TIMEOUT_S", "GitResult", "WorkspaceError", "check_remote", "git"]

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


class WorkspaceError(Exception):
    """A git operation failed or was refused."""


@dataclass(frozen=True)
class GitResult:
    code: int
    stdout: str
    stderr: str


def check_remote(remote: str) -> str:
    """``remote`` when git may fetch from and push to it: not empty, no option, no ``ext::``."""
    if not remote or remote.startswith("-") or remote.lower().startswith("ext::"):
        raise WorkspaceError(f"unsupported git remote {remote!r}")
    return remote


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
        async with asyncio.timeout(timeout_s):  # not wait_for: CPython gh-86296 on 3.11
            out, err = await proc.communicate()
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
