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
``--junitxml=<file outside the workspace>`` and parses that report into per-test outcomes; other
commands are recorded by exit code only.
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
import xml.etree.ElementTree as ET  # parses our pytest's report, size-capped
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from shared.domain.evidence import FailureKind, Outcome, TestOutcome, TestRun

__all__ = ["TAIL_BYTES", "TestLimits", "classify_failure", "parse_junit", "run_tests"]

TAIL_BYTES = 4096
_READ_CHUNK = 65536
_MAX_JUNIT_BYTES = 20_000_000
_MAX_MESSAGE = 2000
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
        await asyncio.wait_for(proc.wait(), timeout=limits.wall_s)
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
        await asyncio.wait_for(reader, timeout=2)
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


# -- JUnit report --------------------------------------------------------------------------

_EXC_NAMES: dict[str, FailureKind] = {
    "AssertionError": FailureKind.ASSERTION,
    "Failed": FailureKind.ASSERTION,
    "ImportError": FailureKind.IMPORT,
    "ModuleNotFoundError": FailureKind.IMPORT,
    "SyntaxError": FailureKind.SYNTAX,
    "IndentationError": FailureKind.SYNTAX,
    "TabError": FailureKind.SYNTAX,
    "NameError": FailureKind.NAME,
    "UnboundLocalError": FailureKind.NAME,
    "AttributeError": FailureKind.NAME,
}
_LOCATION_EXC = re.compile(r"^\S.*:\d+: ([A-Za-z_][\w.]*)$")  # tests/test_a.py:3: AssertionError
_E_LINE_EXC = re.compile(r"^E\s+([A-Za-z_][\w.]*)(?::|$)")  # E   ModuleNotFoundError: No module…
_MESSAGE_EXC = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Failed|Exit)):")


def classify_failure(exc_type: str | None, message: str, text: str) -> FailureKind:
    """The kind of a failure from the report's ``type``, ``message`` and traceback text."""
    name = exc_type or _exception_name(message, text)
    if name:
        short = name.rsplit(".", 1)[-1]
        if short in _EXC_NAMES:
            return _EXC_NAMES[short]
        if "timeout" in short.lower():
            return FailureKind.TIMEOUT
        return FailureKind.OTHER
    if "ImportError while importing" in text:
        return FailureKind.IMPORT
    if message.startswith("assert"):
        return FailureKind.ASSERTION
    return FailureKind.OTHER


def _exception_name(message: str, text: str) -> str | None:
    lines = text.strip().splitlines()
    if lines and (m := _LOCATION_EXC.match(lines[-1].strip())):
        return m.group(1)
    for line in reversed(lines):
        if m := _E_LINE_EXC.match(line):
            return m.group(1)
    if m := _MESSAGE_EXC.match(message):
        return m.group(1)
    return None


def parse_junit(report: Path, root: Path) -> tuple[list[TestOutcome], list[str]]:
    """Per-test outcomes and the ids of modules that failed to collect, from a JUnit report
    written by pytest (``junit_family=xunit1``); empty when the report is missing or broken."""
    try:
        if report.stat().st_size > _MAX_JUNIT_BYTES:
            return [], []
        tree = ET.parse(report)  # noqa: S314 - our pytest's report; expat refuses entity bombs
    except (OSError, ET.ParseError):
        return [], []
    tests: list[TestOutcome] = []
    collection_errors: list[str] = []
    for case in tree.getroot().iter("testcase"):
        outcome = _case_outcome(case, root)
        tests.append(outcome)
        if outcome.outcome is Outcome.ERROR and _is_collection_error(case):
            collection_errors.append(outcome.id)
    return tests, collection_errors


def _is_collection_error(case: ET.Element) -> bool:
    error = case.find("error")
    return error is not None and error.get("message", "") == "collection failure"


def _case_outcome(case: ET.Element, root: Path) -> TestOutcome:
    node_id = _node_id(case, root)
    duration = _float(case.get("time"))
    for tag, outcome in (("failure", Outcome.FAILED), ("error", Outcome.ERROR)):
        element = case.find(tag)
        if element is not None:
            message = element.get("message", "")
            text = element.text or ""
            kind = classify_failure(element.get("type"), message, text)
            if tag == "error" and message == "collection failure":
                message = _collection_message(text)
            return TestOutcome(
                id=node_id,
                outcome=outcome,
                kind=kind,
                message=message[:_MAX_MESSAGE],
                duration_s=duration,
            )
    skipped = case.find("skipped")
    if skipped is not None:
        message = skipped.get("message", "")[:_MAX_MESSAGE]
        return TestOutcome(
            id=node_id, outcome=Outcome.SKIPPED, message=message, duration_s=duration
        )
    return TestOutcome(id=node_id, outcome=Outcome.PASSED, duration_s=duration)


def _collection_message(text: str) -> str:
    """The exception line(s) of a collection traceback, e.g. ``ModuleNotFoundError: No module…``."""
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    return " | ".join(errors[-3:]) if errors else "collection failure"


def _node_id(case: ET.Element, root: Path) -> str:
    """The pytest node id: ``path::Class::name`` from xunit1's ``file``, or guessed from the
    dotted ``classname`` (``tests.test_a.TestK``) by finding the module file on disk."""
    classname = case.get("classname", "")
    name = case.get("name", "")
    file = case.get("file")
    if not classname:  # collection error: name is the dotted module
        return file or _module_path(name.split("."), root)[0]
    parts = classname.split(".")
    if file:
        module = PurePosixPath(file).with_suffix("").parts
        if tuple(parts[: len(module)]) == module:
            return "::".join([file, *parts[len(module) :], name])
    path, classes = _module_path(parts, root)
    return "::".join([path, *classes, name])


def _module_path(parts: list[str], root: Path) -> tuple[str, list[str]]:
    for i in range(len(parts), 0, -1):
        candidate = "/".join(parts[:i]) + ".py"
        if (root / candidate).is_file():
            return candidate, parts[i:]
    return "/".join(parts) + ".py", []


def _float(value: str | None) -> float:
    try:
        return round(float(value or 0), 3)
    except ValueError:
        return 0.0
