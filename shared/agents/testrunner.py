"""Run a project's test command in a sandboxed subprocess and record a :class:`TestRun`.

The command runs with the workspace as working directory, in its own session (so a timeout kills
the whole process group), with RLIMIT_CPU and RLIMIT_AS set, a capped output, and an environment
built from an allow-list: nothing from our own environment (API keys, tokens, Redis URL, JWT
secret, …) reaches code the agents wrote.

Interpreter: a command starting with ``python`` (``python``, ``python3``, ``python3.11``) runs with
``sys.executable``, the orchestrator's own virtualenv interpreter, so pytest and its plugins are
available whatever is on PATH; a bare ``pytest`` becomes ``sys.executable -m pytest``.

For pytest commands (any argument named ``pytest``) the runner appends ``-p no:cacheprovider``
(and ``-p no:NAME`` for each of ``TestLimits.disabled_plugins``), ``-o junit_family=xunit1`` and
``--junitxml=<file outside the workspace>`` and reads that report back as per-test outcomes
(`shared.agents.junit`); other commands are recorded by exit code only.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import resource
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from shared.agents.junit import parse_junit
from shared.domain.evidence import TestRun

__all__ = ["TAIL_BYTES", "TestLimits", "run_tests"]

TAIL_BYTES = 4096
_READ_CHUNK = 65536
_PYTHON = re.compile(r"python(\d+(\.\d+)?)?")
_PASSTHROUGH_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT", "SYSTEMDRIVE")


@dataclass(frozen=True)
class TestLimits:
    """Resource limits of one test run."""

    __test__ = False  # not a pytest test class

    wall_s: float = 120
    cpu_s: int = 120
    memory_mb: int = 1024
    output_bytes: int = 1_000_000
    disabled_plugins: tuple[str, ...] = ()  # pytest plugins the run must not load (-p no:NAME)


async def run_tests(
    root: Path,
    command: str,
    paths: Sequence[str] = (),
    limits: TestLimits | None = None,
) -> TestRun:
    """Run ``command`` (plus ``paths``) in ``root`` under ``limits``.

    Raises only ValueError for an empty command; an executable that cannot start is recorded
    as exit code 127 with the reason in the output tail. ``exit_code`` is None when the run
    was stopped by the wall-clock or CPU limit (``timed_out``)."""
    limits = limits or TestLimits()
    argv = _argv(command)
    pytest = _is_pytest(argv)
    with tempfile.TemporaryDirectory(
        prefix="awf-tests-", ignore_cleanup_errors=True
    ) as scratch_dir:
        scratch = Path(scratch_dir)
        (scratch / "home").mkdir()
        (scratch / "tmp").mkdir()
        junit = scratch / "junit.xml"
        if pytest:
            argv += _pytest_options(junit, limits.disabled_plugins)
        argv += list(paths)
        started = time.monotonic()
        exit_code, timed_out, output = await _execute(argv, root, _env(scratch), limits)
        duration = time.monotonic() - started
        tests, collection_errors = parse_junit(junit, root) if pytest else ([], [])
    if pytest and not timed_out:
        collection_errors += _exit_code_errors(exit_code, collection_errors, output.text())
    return TestRun(
        command=argv,
        exit_code=None if timed_out else exit_code,
        duration_s=round(duration, 3),
        tests=tests,
        collection_errors=collection_errors,
        timed_out=timed_out,
        output_tail=output.tail(),
        output_digest=output.digest.hexdigest(),
    )


def _argv(command: str) -> list[str]:
    argv = shlex.split(command)
    if not argv:
        raise ValueError("empty test command")
    if _PYTHON.fullmatch(argv[0]):
        argv[0] = sys.executable
    elif argv[0] in ("pytest", "py.test"):
        argv[:1] = [sys.executable, "-m", "pytest"]
    return argv


def _pytest_options(junit: Path, disabled_plugins: Sequence[str]) -> list[str]:
    blocked = [arg for name in ("cacheprovider", *disabled_plugins) for arg in ("-p", f"no:{name}")]
    return [*blocked, "-o", "junit_family=xunit1", f"--junitxml={junit}"]


def _is_pytest(argv: Sequence[str]) -> bool:
    return any(PurePosixPath(a).name in ("pytest", "py.test") for a in argv)


def _env(scratch: Path) -> dict[str, str]:
    """An allow-listed environment: nothing secret of ours reaches the tests."""
    env = {k: os.environ[k] for k in _PASSTHROUGH_ENV if k in os.environ}
    env.setdefault("PATH", os.defpath)
    env.setdefault("LANG", "C.UTF-8")
    env.update(
        HOME=str(scratch / "home"),
        TMPDIR=str(scratch / "tmp"),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONHASHSEED="0",
        PYTHONIOENCODING="utf-8",
        NO_COLOR="1",
        PY_COLORS="0",
    )
    return env


def _limit(pid: int, limits: TestLimits) -> None:
    """Set the test process' rlimits from here, just after it started (prlimit).

    Not with preexec_fn: that runs Python in the forked child, which can deadlock on a lock
    another thread of this process held at the fork, and the worker has threads. The limits land
    while the interpreter is still starting, before any test code, so everything the tests start
    inherits them; CPU time counts from the process start either way."""
    cpu = max(1, int(limits.cpu_s))
    memory = max(64, int(limits.memory_mb)) * 1024 * 1024
    with contextlib.suppress(ProcessLookupError):  # already gone: nothing to limit
        resource.prlimit(pid, resource.RLIMIT_CPU, (cpu, cpu + 5))
        resource.prlimit(pid, resource.RLIMIT_AS, (memory, memory))
        resource.prlimit(pid, resource.RLIMIT_CORE, (0, 0))


class _Output:
    """Captured output: counted, hashed and tailed; the process is killed past the cap."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.size = 0
        self.digest = hashlib.sha256()
        self._tail = bytearray()
        self.capped = False

    def feed(self, chunk: bytes) -> bool:
        """Take a chunk; False once the cap is reached (the rest is dropped)."""
        room = self.cap - self.size
        if len(chunk) > room:
            chunk = chunk[: max(room, 0)]
            self.capped = True
        self.size += len(chunk)
        self.digest.update(chunk)
        self._tail += chunk
        del self._tail[:-TAIL_BYTES]
        return not self.capped

    def text(self) -> str:
        return self._tail.decode("utf-8", errors="replace")

    def tail(self) -> str:
        text = self.text()
        if self.capped:
            text += f"\n[output limit of {self.cap} bytes exceeded: the test process was killed]"
        return text


async def _execute(
    argv: list[str], cwd: Path, env: dict[str, str], limits: TestLimits
) -> tuple[int | None, bool, _Output]:
    output = _Output(limits.output_bytes)
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            cwd=cwd,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:  # missing executable, bad cwd, …
        output.feed(f"could not start {argv[0]!r}: {exc}".encode())
        return 127, False, output
    _limit(proc.pid, limits)
    if proc.stdout is None:  # pragma: no cover - stdout=PIPE always gives a stream
        raise RuntimeError("no stdout pipe")
    reader = asyncio.create_task(_pump(proc.stdout, output, proc.pid))
    timed_out = False
    try:
        async with asyncio.timeout(limits.wall_s):  # not wait_for: CPython gh-86296 on 3.11
            await proc.wait()
    except TimeoutError:
        timed_out = True
    except BaseException:  # cancelled: leave nothing running behind
        _kill_group(proc.pid)
        reader.cancel()
        raise
    _kill_group(proc.pid)  # the test process and anything it left behind
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    await proc.wait()
    try:
        async with asyncio.timeout(2):
            await reader
    except TimeoutError:
        reader.cancel()  # a grandchild escaped the group and holds the pipe
    if proc.returncode == -signal.SIGXCPU:
        timed_out = True
    return proc.returncode, timed_out, output


async def _pump(stream: asyncio.StreamReader, output: _Output, pgid: int) -> None:
    while chunk := await stream.read(_READ_CHUNK):
        if not output.capped and not output.feed(chunk):
            _kill_group(pgid)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _exit_code_errors(exit_code: int | None, known: list[str], text: str) -> list[str]:
    """pytest exit codes 2 (interrupted) and 4 (usage error) without a collection error in the
    report still mean the suite did not run; say so."""
    if exit_code == 2 and not known:
        return [f"pytest was interrupted (exit code 2): {_last_line(text)}"]
    if exit_code == 4:
        return [f"pytest usage error (exit code 4): {_last_line(text)}"]
    if exit_code == 3:
        return [f"pytest internal error (exit code 3): {_last_line(text)}"]
    return []


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"
