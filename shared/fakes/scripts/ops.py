"""What the scripted model knows about calculators: operations, their stories, tests and code."""

from __future__ import annotations

import re
from dataclasses import dataclass

from shared.agents.task import StoryBrief
from shared.fakes.scripts.context import slug

__all__ = ["OPS", "Case", "Op", "generic_op", "op_named", "ops_for_story", "ops_in"]


@dataclass(frozen=True)
class Case:
    """One test case: ``name(args)`` returns ``expected`` or raises ``raises``."""

    test: str
    args: str
    expected: str | None = None
    raises: str | None = None


@dataclass(frozen=True)
class Op:
    name: str
    title: str
    keywords: tuple[str, ...]
    summary: str
    cases: tuple[Case, ...]
    source: str

    def criteria(self) -> list[str]:
        return [self._criterion(c) for c in self.cases]

    def _criterion(self, case: Case) -> str:
        if case.raises:
            return f"calculator.{self.name}({case.args}) raises {case.raises}"
        if case.expected is None:
            return f"calculator.{self.name} exists and is callable"
        return f"calculator.{self.name}({case.args}) returns {case.expected}"


def _binary(name: str, body: str) -> str:
    return f"def {name}(a: float, b: float) -> float:\n{body}\n"


_DIVIDE = (
    "    try:\n        return a / b\n    except ZeroDivisionError as error:\n"
    '        raise ValueError("cannot divide by zero") from error'
)
_MODULO = _DIVIDE.replace("a / b", "a % b").replace("divide by", "take a remainder of")
OPS: tuple[Op, ...] = (
    Op("add", "Add two numbers", ("add", "sum", "plus", "addition"), "Return the sum of a and b.",
       (Case("test_add_two_positive_numbers", "2, 3", "5"),
        Case("test_add_negative_numbers", "-2, -3", "-5"),
        Case("test_add_floats", "0.5, 0.25", "0.75")),
       _binary("add", "    return a + b")),
    Op("subtract", "Subtract two numbers", ("subtract", "minus", "difference", "subtraction"),
       "Return a minus b.",
       (Case("test_subtract_smaller_from_larger", "5, 3", "2"),
        Case("test_subtract_gives_negative", "3, 5", "-2"),
        Case("test_subtract_zero", "7, 0", "7")),
       _binary("subtract", "    return a - b")),
    Op("multiply", "Multiply two numbers", ("multiply", "product", "times", "multiplication"),
       "Return the product of a and b.",
       (Case("test_multiply_two_numbers", "4, 3", "12"),
        Case("test_multiply_by_zero", "4, 0", "0"),
        Case("test_multiply_negative", "-2, 3", "-6")),
       _binary("multiply", "    return a * b")),
    Op("divide", "Divide two numbers", ("divide", "quotient", "division"),
       "Return a divided by b; ValueError when b is zero.",
       (Case("test_divide_evenly", "6, 3", "2"),
        Case("test_divide_to_fraction", "1, 4", "0.25"),
        Case("test_divide_by_zero_raises_value_error", "1, 0", raises="ValueError")),
       _binary("divide", _DIVIDE)),
    Op("power", "Raise a number to a power", ("power", "exponent", "exponentiation"),
       "Return a raised to the power b.",
       (Case("test_power_of_two", "2, 3", "8"), Case("test_power_zero", "5, 0", "1")),
       _binary("power", "    return a**b")),
    Op("modulo", "Remainder of a division", ("modulo", "remainder", "modulus"),
       "Return the remainder of a divided by b; ValueError when b is zero.",
       (Case("test_modulo_remainder", "7, 3", "1"),
        Case("test_modulo_by_zero_raises_value_error", "7, 0", raises="ValueError")),
       _binary("modulo", _MODULO)),
)  # fmt: skip
_BY_NAME = {op.name: op for op in OPS}


def op_named(name: str) -> Op | None:
    return _BY_NAME.get(name)


def ops_in(text: str) -> list[Op]:
    """Operations the text mentions (by keyword stem), in order of first mention."""
    lowered = text.lower()
    found = []
    for op in OPS:
        hits = [m.start() for k in op.keywords if (m := re.search(rf"\b{k}", lowered))]
        if hits:
            found.append((min(hits), op))
    return [op for _, op in sorted(found, key=lambda pair: pair[0])]


def generic_op(name: str, title: str) -> Op:
    """An operation nobody taught the model: a test that it exists, and a stub."""
    source = f"def {name}(*args: object) -> None:\n    return None\n"
    case = Case(f"test_{name}_exists", "")
    return Op(name, title, (), f"Provide {name} for: {title}.", (case,), source)


def ops_for_story(story: StoryBrief) -> list[Op]:
    """The story's operations: from its title, else its description and criteria."""
    found = ops_in(story.title) or ops_in(" ".join([story.description, *story.acceptance_criteria]))
    return found or [generic_op(slug(story.title), story.title)]
