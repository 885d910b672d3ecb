"""Backlog role: split an epic into small, testable stories with ``propose_stories``."""

from __future__ import annotations

import re
from typing import Any

from shared.agents.tool_specs import ToolName as T
from shared.fakes.scripts.context import ScriptContext, Step, call, finish
from shared.fakes.scripts.ops import OPS, Op, ops_in

__all__ = ["backlog_step", "stories_for_epic"]

_MARKERS = re.compile(r"\s*\[fault:[^\]]*\]")
_CALCULATOR = re.compile(r"calculat|arithmetic|\bmath", re.IGNORECASE)


def _op_story(op: Op) -> dict[str, Any]:
    return {
        "title": op.title,
        "description": f"As a calculator user I want to {op.title.lower()}, "
        f"so that I need not work it out by hand. Provide calculator.{op.name}: {op.summary}",
        "acceptance_criteria": op.criteria(),
    }


def _generic_split(title: str) -> list[dict[str, Any]]:
    parts = (
        ("core behaviour", "The main use case of the epic works end to end",
         "It is covered by automated tests"),
        ("invalid input", "Invalid input is rejected with a clear error message",
         "Nothing is changed when input is rejected"),
        ("documentation", "The README explains how to use the feature",
         "Every public function has a docstring"),
    )  # fmt: skip
    return [
        {"title": f"{title[:150]}: {name}", "description": f"Part of the epic '{title}'.",
         "acceptance_criteria": list(criteria)}
        for name, *criteria in parts
    ]  # fmt: skip


def stories_for_epic(title: str, description: str = "") -> list[dict[str, Any]]:
    """One story per operation the epic names; the first three for a calculator epic that
    names none; else a generic three-way split."""
    text = f"{title}\n{description}"
    ops = ops_in(text) or (list(OPS[:3]) if _CALCULATOR.search(text) else [])
    if ops:
        return [_op_story(op) for op in ops[:6]]
    return _generic_split(_MARKERS.sub("", title).strip() or "Epic")


def _trimmed(story: dict[str, Any]) -> dict[str, Any]:
    return {"title": story["title"][:60], "acceptance_criteria": story["acceptance_criteria"][:2]}


def backlog_step(ctx: ScriptContext) -> Step:
    if T.LIST_FILES in ctx.offered and not ctx.done(T.LIST_FILES):
        return call(T.LIST_FILES, "Let me look at the repository first.", path=".")
    stories = stories_for_epic(
        ctx.task.epic_title or ctx.story.title, ctx.task.epic_description or ""
    )
    proposals = ctx.calls_of(T.PROPOSE_STORIES)
    if not proposals:
        say = f"The epic splits into {len(stories)} small stories; proposing them."
        return call(T.PROPOSE_STORIES, say, stories=stories)
    last = proposals[-1]
    if last.is_error and len(proposals) < 2:
        say = "The proposal was refused; trying again with shorter titles and fewer criteria."
        return call(T.PROPOSE_STORIES, say, stories=[_trimmed(s) for s in stories])
    if last.is_error:
        return finish(f"I could not propose stories: {last.result}")
    titles = "; ".join(s["title"] for s in last.input.get("stories", []))
    return finish(
        f"I proposed {len(last.input.get('stories', []))} stories for the epic: {titles}. "
        "Each is small and has testable acceptance criteria."
    )
