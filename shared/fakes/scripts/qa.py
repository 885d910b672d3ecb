"""QA role: write failing tests for the story, run them, and check they fail the right way."""

from __future__ import annotations

from shared.agents.tool_specs import ToolName as T
from shared.fakes.scripts.context import (
    MODULE,
    ScriptContext,
    Step,
    ToolCall,
    call,
    finish,
    story_tests_name,
)
from shared.fakes.scripts.ops import ops_for_story
from shared.fakes.scripts.results import TestReport, parse_test_report
from shared.fakes.scripts.testgen import Style, render_tests

__all__ = ["qa_step", "tests_path_for"]


def tests_path_for(ctx: ScriptContext) -> str:
    """Where the story's tests go: tests/test_<slug>.py, or test_<slug>.py if that was refused."""
    name = story_tests_name(ctx.story)
    for path in (f"tests/{name}", name):
        attempts = ctx.calls_of(T.WRITE_FILE, path=path)
        if not attempts or any(c.ok for c in attempts):
            return path
    return ""


def _style_of(write: ToolCall) -> Style:
    content = str(write.input.get("content", ""))
    if "importlib" in content:
        return "guarded"
    return "import" if "from calculator import" in content else "getattr"


def _write(ctx: ScriptContext, path: str, style: Style, say: str) -> Step:
    content = render_tests(ctx.story, ops_for_story(ctx.story), style)
    return call(T.WRITE_FILE, say, path=path, content=content)


def _restyle(ctx: ScriptContext, report: TestReport, current: Style) -> Style | None:
    """A better style when the tests failed for the wrong reason (at most two rewrites)."""
    if "red-import-error" in ctx.faults or len(ctx.calls_of(T.WRITE_FILE)) >= 3:
        return None
    if report.module_missing and current != "guarded":
        return "guarded"
    if (report.import_error or report.syntax_error) and current == "import":
        return "getattr"
    return None


def _summary(ctx: ScriptContext, path: str, report: TestReport) -> Step:
    if "red-import-error" in ctx.faults:
        return finish(f"Tests written in {path}; they fail as required.")
    if report.green:
        return finish(
            f"I wrote {path}, but its tests already pass: the behaviour seems to exist. "
            "The story may already be done."
        )
    failing = ", ".join(report.failed_ids[:10]) or "the new tests"
    reason = "calculator does not implement them yet (assertion failures, not import errors)"
    return finish(f"I wrote {path}. Failing as intended: {failing}. Reason: {reason}.")


def qa_step(ctx: ScriptContext) -> Step:
    if T.READ_FILE in ctx.offered and not ctx.done(T.READ_FILE, path=MODULE):
        return call(T.READ_FILE, f"First, what does {MODULE} offer today?", path=MODULE)
    path = tests_path_for(ctx)
    written = [c for c in ctx.calls_of(T.WRITE_FILE) if c.ok]
    style: Style = "import" if "red-import-error" in ctx.faults else "getattr"
    if not written:
        if not path:
            return finish("Every test path I tried was refused; I cannot write the tests.")
        return _write(ctx, path, style, f"Writing tests for each acceptance criterion to {path}.")
    path, style = str(written[-1].input["path"]), _style_of(written[-1])
    last_run = ctx.last_of(T.RUN_TESTS)
    if ctx.last is written[-1] or last_run is None or last_run.result is None:
        return call(T.RUN_TESTS, "Running the new tests; they must fail.", paths=[path])
    report = parse_test_report(last_run.result, is_error=last_run.is_error)
    if (better := _restyle(ctx, report, style)) is not None:
        say = f"The tests failed for the wrong reason (import/syntax); rewriting them ({better})."
        return _write(ctx, path, better, say)
    return _summary(ctx, path, report)
