"""Refactor role: document the code without changing behaviour, keep the suite green, review."""

from __future__ import annotations

from shared.agents.tool_specs import ToolName as T
from shared.fakes.scripts.context import MODULE, ScriptContext, Step, ToolCall, call, finish
from shared.fakes.scripts.ops import OPS
from shared.fakes.scripts.pysource import add_docstrings, undocumented_functions
from shared.fakes.scripts.results import TestReport, file_text, parse_test_report

__all__ = ["BREAKAGE", "refactor_step"]

BREAKAGE = '\n\nraise RuntimeError("refactor broke the module")\n'
_SUMMARIES = {"identity": "Return x unchanged.", **{op.name: op.summary for op in OPS}}


def _break(ctx: ScriptContext, original: str) -> Step:
    if not ctx.done(T.WRITE_FILE, path=MODULE):
        say = "Tidying the module."
        return call(T.WRITE_FILE, say, path=MODULE, content=original.rstrip("\n") + BREAKAGE)
    if not ctx.done(T.RUN_TESTS):
        return call(T.RUN_TESTS, "Running the whole suite.")
    return finish("Refactor complete: the code is tidier and the whole suite is green.")


def _review(ctx: ScriptContext, original: str) -> Step:
    run = ctx.last_of(T.RUN_TESTS)
    report = _report(run) if run else None
    kept = [c for c in ctx.calls_of(T.WRITE_FILE, path=MODULE) if c.ok]
    reverted = len(kept) > 1
    documented = undocumented_functions(original)
    change = (
        f"I added one-line docstrings to {', '.join(documented)} in {MODULE}"
        if kept and not reverted
        else "I left the code as it was"
    )
    state = "green" if report and report.green else "NOT green"
    return finish(
        f"Review of {ctx.story.id}: {change}, changing no behaviour. The whole suite is {state} "
        "after the refactor. The implementation is the simplest thing that passes the tests, "
        "names are clear and each function does one thing; nothing else needs changing now."
    )


def _report(run: ToolCall) -> TestReport:
    return parse_test_report(run.result or "", is_error=run.is_error)


def refactor_step(ctx: ScriptContext) -> Step:
    read = ctx.last_of(T.READ_FILE, path=MODULE)
    if read is None:
        return call(T.READ_FILE, f"Reading {MODULE} to look for improvements.", path=MODULE)
    original = file_text(read.result or "") if read.ok else ""
    if "refactor-breaks" in ctx.faults:
        return _break(ctx, original)
    runs = ctx.calls_of(T.RUN_TESTS)
    if not runs:
        return call(T.RUN_TESTS, "Running the whole suite first: a refactor starts from green.")
    if not _report(runs[0]).green:
        failing = ", ".join(_report(runs[0]).failed_ids) or "see the output"
        return finish(
            f"The suite is red before any change ({failing}); I will not refactor on red."
        )
    writes = ctx.calls_of(T.WRITE_FILE, path=MODULE)
    improved = add_docstrings(original, _SUMMARIES)
    if not writes and improved is not None:
        say = "Adding docstrings to the undocumented functions; behaviour stays the same."
        return call(T.WRITE_FILE, say, path=MODULE, content=improved)
    if ctx.last is not None and ctx.last.matches(T.WRITE_FILE, {"path": MODULE}) and ctx.last.ok:
        return call(T.RUN_TESTS, "Running the whole suite to check nothing changed.")
    if len(writes) == 1 and writes[0].ok and not _report(runs[-1]).green:
        say = "The suite went red after my change; reverting it."
        return call(T.WRITE_FILE, say, path=MODULE, content=original)
    return _review(ctx, original)
