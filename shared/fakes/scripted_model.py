"""A deterministic stand-in for Claude: one script per agent role, reacting to tool results.

``ScriptedModel().respond(request)`` reads the ``<task>{json}</task>`` block of the first user
message (``shared.agents.task``) and the tool calls and results so far, and decides the next
turn: a sentence and one tool call (``stop_reason="tool_use"``), or a final text
(``"end_turn"``). The same conversation always gets the same answer, tool ids included.

Scripts (``shared.fakes.scripts.*``), on the demo's calculator repository:

- backlog: list the files, ``propose_stories`` (one story per operation the epic names, the
  first three for a calculator epic naming none, else a generic split), summarise.
- design: read calculator.py, write ``docs/design/<story-id>.md``, ``set_acceptance_criteria``.
- qa: read calculator.py, write ``tests/test_<slug>.py`` that fail by assertion (getattr with a
  message), run them; rewrite them if they failed by import/syntax error.
- code: read the red tests, run them, read calculator.py, implement what the tests and their
  failure output name, run again, fix once more if still red.
- refactor: add docstrings to calculator.py, run the whole suite, revert if it went red, review.
- data: narrate the ``name: number`` metrics in the prompt.

Every script honours a write refusal (tries a permitted path or stops), the task's ``hint`` and
``refusal`` (they cure first-attempt faults; the code script also implements the operations a
hint names; the design note quotes them; the final text acknowledges the hint), only calls
offered tools, and ends within ``max_turns`` (12). The ``<task>`` block may also sit in the
system prompt.

Fault markers, in the story title (the epic title for backlog):

- ``[fault:code-writes-test]`` code first tries to write a test file and edit
  ``tests/test_calculator.py`` (both must be refused), then works normally.
- ``[fault:red-import-error]`` qa writes ``from calculator import add`` tests (fail by
  ImportError) and claims success.
- ``[fault:green-lie]`` code runs the tests and ends its turn claiming success, fixing nothing.
- ``[fault:refactor-breaks]`` refactor appends ``raise RuntimeError`` to calculator.py and
  claims the suite is green.
- ``[fault:endless]`` (any role) calls tools forever; only the orchestrator's turn limit ends it.
- ``[fault:traversal]`` (any role) first tries ``../../etc/passwd``, ``/etc/passwd``,
  ``../awf-escape.txt``, and ``escape/…`` through a symlink named ``escape`` a test plants in
  the repository; then works normally and reports how many attempts were refused.

``[fault:NAME@ROLE]`` limits a marker to one role. A fault applies to the first attempt only
(a retry, a refusal or a hint cures it); ``[fault:NAME!]`` applies on every attempt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from pydantic import ValidationError

from shared.agents.roles import RoleName
from shared.fakes.scripts.backlog import backlog_step
from shared.fakes.scripts.code import code_step
from shared.fakes.scripts.context import ScriptContext, Step, build_context, finish
from shared.fakes.scripts.data import data_step
from shared.fakes.scripts.design import design_step
from shared.fakes.scripts.fault_steps import endless_step, prelude_step, traversal_summary
from shared.fakes.scripts.qa import qa_step
from shared.fakes.scripts.refactor import refactor_step
from shared.fakes.wire import MessagesRequest, ModelReply, TextOut, ToolCallOut

__all__ = ["SCRIPTS", "ScriptedModel"]

Script = Callable[[ScriptContext], Step]
SCRIPTS: dict[RoleName, Script] = {
    RoleName.BACKLOG: backlog_step,
    RoleName.DESIGN: design_step,
    RoleName.QA: qa_step,
    RoleName.CODE: code_step,
    RoleName.REFACTOR: refactor_step,
    RoleName.DATA: data_step,
}
_NO_TASK = "Hello from the scripted model. Give me a <task> block and tools, and I will work."


class ScriptedModel:
    """Deterministic per-role scripts behind the fake Messages API."""

    def __init__(self, max_turns: int = 12) -> None:
        self.max_turns = max_turns

    def respond(self, request: MessagesRequest) -> ModelReply:
        try:
            ctx = build_context(request)
        except ValidationError as error:
            return _text(f"I cannot read my <task> block: {error.error_count()} error(s).")
        if ctx is None:
            return _text(_NO_TASK)
        step = self.next_step(ctx)
        if step.tool is None:
            return _text(" ".join([step.say, *_postscripts(ctx)]))
        return ModelReply(
            (TextOut(step.say), ToolCallOut(_tool_id(ctx, step), step.tool, step.input)),
            "tool_use",
        )

    def next_step(self, ctx: ScriptContext) -> Step:
        """The script's decision, within the turn budget and the offered tools."""
        if "endless" in ctx.faults:
            return endless_step(ctx)
        if ctx.turn >= self.max_turns:
            return finish("I am stopping here: I have used my turn budget for this task.")
        step = prelude_step(ctx) or SCRIPTS[ctx.task.role](ctx)
        if step.tool is not None and step.tool not in ctx.offered:
            return finish(f"I would call {step.tool} next, but that tool is not available to me.")
        return step


def _postscripts(ctx: ScriptContext) -> list[str]:
    notes = [f"(I took the hint into account: {ctx.task.hint})"] if ctx.task.hint else []
    return notes + ([traversal_summary(ctx)] if "traversal" in ctx.faults else [])


def _text(text: str) -> ModelReply:
    return ModelReply((TextOut(text),), "end_turn")


def _tool_id(ctx: ScriptContext, step: Step) -> str:
    seed = f"{ctx.turn}|{step.tool}|{json.dumps(step.input, sort_keys=True)}"
    return "toolu_01" + hashlib.sha256(seed.encode()).hexdigest()[:22]
