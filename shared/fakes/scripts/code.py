"""Code role: read the failing tests, run them, implement what they ask for, run again."""

from __future__ import annotations

from shared.agents.tool_specs import ToolName as T
from shared.fakes.scripts.context import MODULE, ScriptContext, Step, call, finish, story_tests_name
from shared.fakes.scripts.ops import generic_op, op_named, ops_for_story, ops_in
from shared.fakes.scripts.pysource import append_functions, defined_functions, replace_function
from shared.fakes.scripts.results import (
    TestReport,
    file_text,
    missing_names,
    parse_test_report,
    wanted_names,
)

__all__ = ["code_step", "module_source"]

_NEW_MODULE = '"""A tiny calculator."""\n'


def _test_files(ctx: ScriptContext) -> list[str]:
    files = list(dict.fromkeys(i.split("::")[0] for i in ctx.task.red_test_ids))
    return files or [f"tests/{story_tests_name(ctx.story)}"]


def module_source(ctx: ScriptContext) -> str | None:
    """The module as the model last saw it: its own last write, else the read ("" if missing)."""
    for c in reversed(ctx.calls):
        if c.matches(T.WRITE_FILE, {"path": MODULE}) and c.ok:
            return str(c.input["content"])
        if c.matches(T.READ_FILE, {"path": MODULE}) and c.result is not None:
            return file_text(c.result) if c.ok else ""
    return None


def _wanted(ctx: ScriptContext, report: TestReport) -> list[str]:
    reads = [c for f in _test_files(ctx) for c in ctx.calls_of(T.READ_FILE, path=f) if c.ok]
    names = [n for c in reads for n in wanted_names(file_text(c.result or ""))]
    names += missing_names(report.text) + [op.name for op in ops_in(ctx.advice)]
    names = [n for n in dict.fromkeys(names) if n.isidentifier() and not n.startswith("_")]
    return names or [op.name for op in ops_for_story(ctx.story)]


def _implementation(name: str) -> str:
    op = op_named(name)
    return op.source if op else generic_op(name, name).source


def _fixed(ctx: ScriptContext, source: str, report: TestReport) -> str | None:
    """The module with what the failing tests need, or None when the model sees nothing to do."""
    wanted = _wanted(ctx, report)
    missing = [n for n in wanted if n not in defined_functions(source)]
    if missing:
        return append_functions(source or _NEW_MODULE, [_implementation(n) for n in missing])
    for name in wanted:  # defined but failing: put the known-good version in its place
        op = op_named(name)
        failing = any(name in test_id for test_id in report.failed_ids)
        if op and failing and op.source.strip() not in source:
            return replace_function(source, name, op.source)
    return None


def _lie(ctx: ScriptContext, files: list[str]) -> Step:
    if not ctx.done(T.RUN_TESTS):
        return call(T.RUN_TESTS, "Running the tests.", paths=files)
    return finish("Done: the feature is implemented and all tests pass.")


def _after_run(ctx: ScriptContext, report: TestReport) -> Step:
    writes = [c for c in ctx.calls_of(T.WRITE_FILE, path=MODULE) if c.ok]
    if report.green:
        done = "implemented" if writes else "already passing"
        return finish(f"The story's tests pass now ({done}); {MODULE} holds the change.")
    if len(writes) >= 2:
        return finish(f"The tests still fail after two fixes: {', '.join(report.failed_ids)}.")
    fixed = _fixed(ctx, module_source(ctx) or "", report)
    if fixed is None:
        return finish(f"The tests fail, but I cannot tell what to change: {report.text[:300]}")
    names = ", ".join(_wanted(ctx, report))
    say = f"The failures point at {names}; {'fixing' if writes else 'implementing'} {MODULE}."
    return call(T.WRITE_FILE, say, path=MODULE, content=fixed)


def code_step(ctx: ScriptContext) -> Step:
    files = _test_files(ctx)
    if "green-lie" in ctx.faults:
        return _lie(ctx, files)
    if unread := [f for f in files if not ctx.done(T.READ_FILE, path=f)]:
        return call(T.READ_FILE, "Reading the failing tests first.", path=unread[0])
    if not ctx.done(T.RUN_TESTS):
        return call(T.RUN_TESTS, "Running them to see how they fail.", paths=files)
    if not ctx.done(T.READ_FILE, path=MODULE):
        return call(T.READ_FILE, f"Now the code under test, {MODULE}.", path=MODULE)
    last = ctx.last
    if last is not None and last.matches(T.WRITE_FILE, {"path": MODULE}):
        if not last.ok:
            return finish(f"My change to {MODULE} was refused: {last.result}")
        return call(T.RUN_TESTS, "Running the tests again.", paths=files)
    run = ctx.last_of(T.RUN_TESTS)
    result = run.result if run is not None else None
    report = parse_test_report(result or "", is_error=run is None or run.is_error)
    return _after_run(ctx, report)
