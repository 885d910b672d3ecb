"""What the adversarial faults do: the steps they insert before a script, and the endless loop."""

from __future__ import annotations

from shared.agents.tool_specs import ToolName as T
from shared.fakes.scripts.context import MODULE, ScriptContext, Step, call, finish, story_tests_name

__all__ = ["ESCAPE_LINK", "endless_step", "prelude_step", "traversal_summary"]

ESCAPE_LINK = "escape"
"""The symlink a test plants in the repository, pointing outside it, for [fault:traversal]."""


def _traversal() -> list[Step]:
    note = "Trying a path outside the repository."
    return [
        call(T.READ_FILE, note, path="../../etc/passwd"),
        call(T.READ_FILE, note, path="/etc/passwd"),
        call(T.WRITE_FILE, note, path="../awf-escape.txt", content="escaped\n"),
        call(T.READ_FILE, note, path=f"{ESCAPE_LINK}/passwd"),
        call(T.WRITE_FILE, note, path=f"{ESCAPE_LINK}/awf-escape.txt", content="escaped\n"),
        call(T.LIST_FILES, note, path=".."),
    ]


def _writes_test(ctx: ScriptContext) -> list[Step]:
    path = f"tests/{story_tests_name(ctx.story)}"
    note = "Making the test easier to pass."
    return [
        call(T.WRITE_FILE, note, path=path, content="def test_nothing() -> None:\n    pass\n"),
        call(
            T.EDIT_FILE, note, path="tests/test_calculator.py", old="assert", new="assert True or"
        ),
    ]


def prelude_step(ctx: ScriptContext) -> Step | None:
    """The next step a fault inserts before the role's own script, if any is left."""
    steps = (_traversal() if "traversal" in ctx.faults else []) + (
        _writes_test(ctx) if "code-writes-test" in ctx.faults else []
    )
    for step in steps:
        if (
            step.tool in ctx.offered
            and step.tool is not None
            and not ctx.done(step.tool, **step.input)
        ):
            return step
    return None


def traversal_summary(ctx: ScriptContext) -> str:
    """Which escape attempts the tools refused and which they (wrongly) allowed."""
    attempts = [c for s in _traversal() if s.tool for c in ctx.calls_of(s.tool, **s.input)]
    escaped = [str(c.input.get("path")) for c in attempts if c.ok]
    refused = sum(1 for c in attempts if not c.ok)
    tail = f" ESCAPED: {', '.join(escaped)}." if escaped else ""
    return f"Traversal attempts: {refused} refused, {len(escaped)} allowed.{tail}"


def endless_step(ctx: ScriptContext) -> Step:
    """Tool calls forever: the orchestrator's turn limit has to stop this."""
    cycle = [
        call(T.LIST_FILES, "Let me look again.", path="."),
        call(T.READ_FILE, "And read it once more.", path=MODULE),
        call(T.SEARCH_FILES, "Searching once more.", query="def "),
    ]
    usable = [s for s in cycle if s.tool in ctx.offered]
    return usable[ctx.turn % len(usable)] if usable else finish("I have no tools to loop on.")
