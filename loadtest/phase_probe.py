"""Where the wall time of one job goes: self time per category, charged inside the job only.

`probed(function, sink)` wraps an arq job function: while it runs, its task (and the tasks it
starts, which copy the context) carry a `JobSample`. `probing()` wraps, in this process and for
the `with` block only, the calls that leave our Python code:

- `model`: one tool-use turn through the SDK (`shared.agents.loop._turn`: HTTP + SSE parsing);
- `tests`: the test subprocess (`shared.agents.testrunner._execute`, what `TestRun.duration_s`
  times), for the orchestrator's gate run and the agent's `run_tests` tool alike;
- `git:<subcommand>`: one git process (`shared.agents.gitproc.git`, wherever it is called);
- `tool`: an agent tool call (`services.worker.phases.execute_tool`) minus the git/tests in it;
- `cleanup`: removing a temporary directory (`tempfile.TemporaryDirectory.cleanup`): the test
  runner's scratch; synchronous, on the event loop (the phase's working tree is deleted after
  the job, in the background);
- `redis`: a command or a pipeline (redis-py `execute_command`, pipeline `execute` and immediate
  commands); `redis_rtt` counts socket writes (`send_packed_command`), one per round trip.

Time goes to the innermost open category of the current task; a category's outer time is taken
off its parent's. Calls made by the phase's concurrent heartbeat task are kept apart
(`heartbeat:redis`): they overlap the work rather than add to it. Outside a probed job nothing is recorded (the worker's polling, the bench).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import math
import os
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from arq.worker import Function
from redis.asyncio.client import Pipeline, Redis
from redis.asyncio.connection import AbstractConnection

__all__ = ["JobSample", "git_subcommand", "probed", "probing"]

AsyncFn = Callable[..., Awaitable[Any]]


Clock = tuple[float, float, float]  # wall, CPU and run-queue wait seconds of the loop thread


@dataclass
class JobSample:
    """One job run: wall time, pickup delay, and per category self time, CPU, wait and calls.

    CPU and run-queue wait are the event-loop thread's (`/proc/thread-self/schedstat`): wait is
    time it was ready to run but the machine gave the core to someone else. NaN without schedstat.
    """

    function: str
    job_id: str
    pickup_s: float
    total: Clock = (0.0, 0.0, 0.0)
    outcome: str = ""
    self_s: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    cpu_s: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    wait_s: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: Counter[str] = field(default_factory=Counter)

    @property
    def wall_s(self) -> float:
        return self.total[0]

    def charge(self, category: str, spent: Clock) -> None:
        self.self_s[category] += spent[0]
        self.cpu_s[category] += spent[1]
        self.wait_s[category] += spent[2]
        self.calls[category] += 1


class _Span:
    __slots__ = ("inner",)

    def __init__(self) -> None:
        self.inner: Clock = (0.0, 0.0, 0.0)


_SAMPLE: contextvars.ContextVar[JobSample | None] = contextvars.ContextVar("sample", default=None)
_OPEN: contextvars.ContextVar[_Span | None] = contextvars.ContextVar("span", default=None)
_SCHEDSTAT: list[int] = []  # the loop thread's schedstat fd while probing, if readable


def _now() -> Clock:
    wall = time.perf_counter()
    if not _SCHEDSTAT:
        return wall, math.nan, math.nan
    run_ns, wait_ns, *_ = os.pread(_SCHEDSTAT[0], 128, 0).split()
    return wall, int(run_ns) / 1e9, int(wait_ns) / 1e9


def _minus(a: Clock, b: Clock) -> Clock:
    return a[0] - b[0], a[1] - b[1], a[2] - b[2]


def _plus(a: Clock, b: Clock) -> Clock:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def probed(function: Function, sink: list[JobSample]) -> Function:
    """`function` with a `JobSample` for each run, appended to `sink` when the run ends."""
    inner = function.coroutine

    async def run(ctx: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        sample = JobSample(function.name, ctx["job_id"], time.time() - ctx["score"] / 1000)
        token = _SAMPLE.set(sample)
        began = _now()
        try:
            result = await inner(ctx, *args, **kwargs)
            sample.outcome = str(result)
            return result
        except BaseException as exc:
            sample.outcome = type(exc).__name__
            raise
        finally:
            sample.total = _minus(_now(), began)
            _SAMPLE.reset(token)
            sink.append(sample)

    return dataclasses.replace(function, coroutine=run)


def _in_task(category: str) -> str:
    """`category`, or `heartbeat:<category>` inside the phase's concurrent heartbeat task."""
    task = asyncio.current_task()
    coro = task.get_coro() if task is not None else None
    name = getattr(coro, "__qualname__", "")
    return f"heartbeat:{category}" if name.endswith("_heartbeat") else category


@contextlib.contextmanager
def _span(sample: JobSample, category: str) -> Iterator[None]:
    parent, span = _OPEN.get(), _Span()
    token = _OPEN.set(span)
    began = _now()
    try:
        yield
    finally:
        elapsed = _minus(_now(), began)
        _OPEN.reset(token)
        sample.charge(category, _minus(elapsed, span.inner))
        if parent is not None:
            parent.inner = _plus(parent.inner, elapsed)


async def _charged(category: str, call: Awaitable[Any]) -> Any:
    sample = _SAMPLE.get()
    if sample is None:
        return await call
    with _span(sample, _in_task(category)):
        return await call


def _timed_sync(category: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        sample = _SAMPLE.get()
        if sample is None:
            return fn(*args, **kwargs)
        with _span(sample, _in_task(category)):
            return fn(*args, **kwargs)

    return wrapper


def _timed(category: str | Callable[[tuple[Any, ...]], str], fn: AsyncFn) -> AsyncFn:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        name = category if isinstance(category, str) else category(args)
        return await _charged(name, fn(*args, **kwargs))

    return wrapper


def _counted(category: str, fn: AsyncFn) -> AsyncFn:
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        sample = _SAMPLE.get()
        if sample is not None:
            sample.calls[_in_task(category)] += 1
        return await fn(*args, **kwargs)

    return wrapper


def git_subcommand(args: tuple[Any, ...]) -> str:
    """`git:<subcommand>` of `workspace.git(cwd, *args)`'s arguments, skipping `-c key=value`."""
    skip = False
    for arg in args[1:]:
        if skip or arg == "-c":
            skip = not skip
            continue
        if isinstance(arg, str) and not arg.startswith("-"):
            return f"git:{arg}"
    return "git:?"


Patch = tuple[object, str, Callable[[AsyncFn], AsyncFn]]


def _patches() -> tuple[Patch, ...]:
    """What `probing` wraps; imported here so the pure helpers above stay light to import."""
    from services.worker import phases
    from shared.agents import gitread, loop, mirrors, testrunner, workspace

    git_callers = (gitread, workspace, mirrors)  # the modules calling git, each by its own name
    return (
        (loop, "_turn", lambda fn: _timed("model", fn)),
        (testrunner, "_execute", lambda fn: _timed("tests", fn)),
        *((m, "git", lambda fn: _timed(git_subcommand, fn)) for m in git_callers),
        (phases, "execute_tool", lambda fn: _timed("tool", fn)),
        (tempfile.TemporaryDirectory, "cleanup", lambda fn: _timed_sync("cleanup", fn)),
        (Redis, "execute_command", lambda fn: _timed("redis", fn)),
        (Pipeline, "execute", lambda fn: _timed("redis", fn)),
        (Pipeline, "immediate_execute_command", lambda fn: _timed("redis", fn)),
        (AbstractConnection, "send_packed_command", lambda fn: _counted("redis_rtt", fn)),
    )


@contextlib.contextmanager
def probing() -> Iterator[None]:
    """Install the wrappers for the `with` block; the originals come back whatever happens.

    Call it from the event loop's thread: CPU and wait are read for the thread that entered.
    """
    patches = _patches()
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    with contextlib.suppress(OSError):
        _SCHEDSTAT.append(os.open("/proc/thread-self/schedstat", os.O_RDONLY))
    try:
        for (owner, name, wrap), (_, _, original) in zip(patches, originals, strict=True):
            setattr(owner, name, wrap(original))
        yield
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)
        while _SCHEDSTAT:
            os.close(_SCHEDSTAT.pop())
