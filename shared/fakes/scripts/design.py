"""Design role: read the module, write a short design note, refine the acceptance criteria."""

from __future__ import annotations

from shared.agents.tool_specs import ToolName as T
from shared.fakes.scripts.context import MODULE, ScriptContext, Step, call, finish, slug
from shared.fakes.scripts.ops import Op, ops_for_story
from shared.fakes.scripts.pysource import defined_functions
from shared.fakes.scripts.results import file_text

__all__ = ["design_note", "design_step", "refined_criteria"]


def _existing(ctx: ScriptContext) -> str:
    read = ctx.last_of(T.READ_FILE, path=MODULE)
    if read is None or not read.ok or read.result is None:
        return f"- {MODULE} does not exist yet; the code phase creates it."
    names = defined_functions(file_text(read.result))
    return f"- {MODULE} today defines: {', '.join(names) or 'nothing'}."


def _edge_cases(ops: list[Op]) -> list[str]:
    lines = ["- Negative numbers and floats follow Python's arithmetic."]
    lines += [f"- {op.name}: {op.summary}" for op in ops if "ValueError" in op.summary]
    lines.append("- Arguments of the wrong type are not checked; Python raises TypeError.")
    return lines


def design_note(ctx: ScriptContext) -> str:
    story, ops = ctx.story, ops_for_story(ctx.story)
    sections = [
        f"# {story.id}: {story.title}",
        "## Interface\n" + "\n".join(f"- `calculator.{op.name}`: {op.summary}" for op in ops),
        "## Behaviour\n" + "\n".join(f"- {c}" for c in refined_criteria(ctx)),
        "## Edge cases\n" + "\n".join(_edge_cases(ops)),
        "## Context\n" + _existing(ctx),
    ]
    if ctx.advice:
        sections.append(f"## Feedback taken into account\n- {ctx.advice}")
    return "\n\n".join(sections) + "\n"


def refined_criteria(ctx: ScriptContext) -> list[str]:
    ops = ops_for_story(ctx.story)
    criteria = [c for op in ops for c in op.criteria()]
    if all(not op.keywords for op in ops):  # an operation the model does not know
        criteria = [*ctx.story.acceptance_criteria, *criteria]
    return list(dict.fromkeys(criteria))[:50]


def _note_paths(ctx: ScriptContext) -> list[str]:
    first = ctx.task.design_note_path or f"docs/design/{ctx.story.id}.md"
    return list(dict.fromkeys([first, f"docs/{slug(ctx.story.id)}.md"]))


def _note_step(ctx: ScriptContext) -> Step | None:
    if any(c.ok for c in ctx.calls_of(T.WRITE_FILE)):
        return None
    for path in _note_paths(ctx):
        if not ctx.done(T.WRITE_FILE, path=path):
            refused = (
                "That path was refused; writing the note under docs/ instead. "
                if ctx.calls_of(T.WRITE_FILE)
                else ""
            )
            say = f"{refused}Writing the design note to {path}."
            return call(T.WRITE_FILE, say, path=path, content=design_note(ctx))
    return None


def design_step(ctx: ScriptContext) -> Step:
    if not ctx.done(T.READ_FILE, path=MODULE):
        return call(T.READ_FILE, f"I'll read {MODULE} to see what exists.", path=MODULE)
    if (note := _note_step(ctx)) is not None:
        return note
    if not ctx.done(T.SET_ACCEPTANCE_CRITERIA):
        say = "Refining the acceptance criteria into testable statements."
        return call(T.SET_ACCEPTANCE_CRITERIA, say, criteria=refined_criteria(ctx))
    written = next((c.input["path"] for c in ctx.calls_of(T.WRITE_FILE) if c.ok), None)
    where = f"The note is in {written}" if written else "I could not write the note"
    return finish(
        f"Design done for {ctx.story.id}. {where}; it fixes the interface, the behaviour and "
        f"the edge cases, and the acceptance criteria now read as {len(refined_criteria(ctx))} "
        "testable statements."
    )
