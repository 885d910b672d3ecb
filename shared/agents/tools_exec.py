"""Execution tools: run the test command, git status and git diff of the workspace."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.agents.gitread import git_diff as workspace_diff
from shared.agents.gitread import git_status as workspace_status
from shared.agents.paths import ToolError, resolve_path
from shared.agents.testrunner import run_tests as run_test_command
from shared.agents.tools_files import ToolOutput, cap_text
from shared.domain.evidence import Outcome, TestRun

if TYPE_CHECKING:
    from shared.agents.tools import GitDiffInput, RunTestsInput, ToolContext

__all__ = ["MAX_LISTED_FAILURES", "git_diff", "git_status", "run_tests", "summarize_test_run"]

MAX_LISTED_FAILURES = 30
_MESSAGE_CHARS = 300
_LABELS = {
    Outcome.PASSED: "passed",
    Outcome.FAILED: "failed",
    Outcome.ERROR: "errors",
    Outcome.SKIPPED: "skipped",
}


def _check_test_path(ctx: ToolContext, selected: str) -> str:
    if selected.startswith("-"):
        raise ToolError(f"test path {selected!r} may not start with '-': options are not allowed")
    file_part = selected.split("::", 1)[0]
    resolve_path(ctx.root, file_part, must_exist=True)
    return selected


async def run_tests(ctx: ToolContext, inp: RunTestsInput) -> ToolOutput:
    paths = [_check_test_path(ctx, p) for p in inp.paths]
    run = await run_test_command(ctx.root, ctx.test_command, paths, ctx.test_limits)
    summary = summarize_test_run(run)
    extra = {
        "exit_code": run.exit_code,
        "passed": len(run.ids(Outcome.PASSED)),
        "failed": len(run.ids(Outcome.FAILED)),
        "errors": len(run.ids(Outcome.ERROR)),
        "timed_out": run.timed_out,
        "test_run": run.model_dump(mode="json"),
    }
    return ToolOutput(cap_text(summary, ctx.max_output_chars), extra, test_run=run)


def summarize_test_run(run: TestRun) -> str:
    """A compact report for the model: counts, failing ids with kind and message, output tail."""
    counts = ", ".join(f"{len(run.ids(o))} {_LABELS[o]}" for o in Outcome)
    state = "timed out" if run.timed_out else f"exit code {run.exit_code}"
    lines = [f"{state}; {counts} ({run.duration_s:.2f} s)"]
    if run.collection_errors:
        lines.append("collection errors: " + ", ".join(run.collection_errors))
    failing = [t for t in run.tests if t.outcome in (Outcome.FAILED, Outcome.ERROR)]
    for test in failing[:MAX_LISTED_FAILURES]:
        kind = test.kind.value if test.kind else "?"
        message = " ".join(test.message.split())[:_MESSAGE_CHARS]
        lines.append(f"{test.outcome.value.upper()} {test.id} [{kind}] {message}")
    if len(failing) > MAX_LISTED_FAILURES:
        lines.append(f"… and {len(failing) - MAX_LISTED_FAILURES} more failing tests")
    if run.output_tail:
        lines += ["--- output tail ---", run.output_tail.rstrip()]
    return "\n".join(lines)


async def git_status(ctx: ToolContext) -> ToolOutput:
    lines = await workspace_status(ctx.root, timeout_s=ctx.call_timeout_s)
    text = "\n".join(lines) if lines else "working tree clean"
    return ToolOutput(cap_text(text, ctx.max_output_chars), {"changed": len(lines)})


async def git_diff(ctx: ToolContext, inp: GitDiffInput) -> ToolOutput:
    if inp.path is not None:
        resolve_path(ctx.root, inp.path, must_exist=False)
    diff = await workspace_diff(ctx.root, inp.path, timeout_s=ctx.call_timeout_s)
    text = diff or "no changes"
    return ToolOutput(
        cap_text(text, ctx.max_output_chars, "diff one path at a time"), {"bytes": len(diff)}
    )
