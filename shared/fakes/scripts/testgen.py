"""Test files the QA script writes, in three styles.

- ``getattr`` (the right way): ``import calculator`` and reach new names through ``getattr``
  with an assertion message, so missing code fails by assertion.
- ``guarded``: like getattr, but also survives a missing ``calculator`` module.
- ``import`` (the fault): ``from calculator import add``, which fails by ImportError.
"""

from __future__ import annotations

from typing import Literal

from shared.agents.task import StoryBrief
from shared.fakes.scripts.ops import Case, Op

__all__ = ["Style", "render_tests"]

Style = Literal["getattr", "guarded", "import"]

_FN = (
    "    fn = getattr({module}, name, None)\n"
    '    assert fn is not None, f"calculator.{{name}} is not implemented"\n'
    "    return fn\n"
)
_GETTER = "def _fn(name):\n" + _FN.format(module="calculator")
_GUARDED = (
    "def _fn(name):\n    try:\n"
    '        module = importlib.import_module("calculator")\n'
    "    except ModuleNotFoundError:\n        module = None\n" + _FN.format(module="module")
)


def _case(op: Op, case: Case, style: Style) -> str:
    fn = op.name if style == "import" else f'_fn("{op.name}")'
    head = f"def {case.test}() -> None:\n"
    if case.raises:
        bind = "" if style == "import" else f"    fn = {fn}\n"
        target = op.name if style == "import" else "fn"
        return (
            f"{head}{bind}    with pytest.raises({case.raises}):\n        {target}({case.args})\n"
        )
    if case.expected is None:
        return f"{head}    assert callable({fn})\n"
    return f"{head}    assert {fn}({case.args}) == {case.expected}\n"


def _imports(ops: list[Op], style: Style) -> str:
    lines = ["import importlib"] if style == "guarded" else []
    if any(c.raises for op in ops for c in op.cases):
        lines.append("import pytest")
    if style == "import":
        lines.append(f"from calculator import {', '.join(op.name for op in ops)}")
    elif style == "getattr":
        lines.append("import calculator")
    return "\n".join(lines) + "\n"


def render_tests(story: StoryBrief, ops: list[Op], style: Style = "getattr") -> str:
    """A pytest module testing every case of every operation, for the story."""
    title = story.title.replace('"""', "'").replace("\\", "/")
    helper = {"getattr": _GETTER, "guarded": _GUARDED}.get(style)
    parts = [_imports(ops, style), *([helper] if helper else [])]
    parts += [_case(op, case, style) for op in ops for case in op.cases]
    return f'"""Tests for {story.id}: {title}."""\n\n' + "\n\n".join(parts)
