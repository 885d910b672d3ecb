"""Small, behaviour-preserving edits of Python source: list, append, replace, document functions."""

from __future__ import annotations

import ast
import re

__all__ = [
    "add_docstrings",
    "append_functions",
    "defined_functions",
    "replace_function",
    "undocumented_functions",
]


def _tree(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except SyntaxError:
        return None


def defined_functions(source: str) -> list[str]:
    """Top-level function names, in order (a regex fallback for source that does not parse)."""
    tree = _tree(source)
    if tree is None:
        return re.findall(r"^def (\w+)\s*\(", source, re.MULTILINE)
    return [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]


def _undocumented(tree: ast.Module) -> list[ast.FunctionDef]:
    return [n for n in tree.body if isinstance(n, ast.FunctionDef) and ast.get_docstring(n) is None]


def undocumented_functions(source: str) -> list[str]:
    tree = _tree(source)
    return [n.name for n in _undocumented(tree)] if tree else []


def append_functions(source: str, functions: list[str]) -> str:
    """``source`` with each function's source appended after two blank lines."""
    parts = [source.rstrip("\n"), *(f.strip("\n") for f in functions)]
    return "\n\n\n".join(p for p in parts if p) + "\n"


def replace_function(source: str, name: str, function: str) -> str | None:
    """``source`` with top-level function ``name`` replaced, or None when it is not there."""
    tree = _tree(source)
    node = (
        next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name), None)
        if tree
        else None
    )
    if node is None or node.end_lineno is None:
        return None
    lines = source.splitlines()
    start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
    new = [*lines[:start], *function.strip("\n").splitlines(), *lines[node.end_lineno :]]
    return "\n".join(new) + "\n"


def _summary(name: str) -> str:
    words = name.replace("_", " ").strip() or name
    return f"Return the result of {words} for the given arguments."


def add_docstrings(source: str, summaries: dict[str, str] | None = None) -> str | None:
    """``source`` with a one-line docstring on every top-level function lacking one.

    None when the source does not parse or every function is already documented.
    """
    tree = _tree(source)
    if tree is None:
        return None
    lines = source.splitlines()
    missing = _undocumented(tree)
    for node in reversed(missing):
        first = node.body[0]
        text = (summaries or {}).get(node.name) or _summary(node.name)
        if first.lineno == node.lineno:  # a one-line def: `def f(x): return x`
            return None
        lines.insert(first.lineno - 1, " " * first.col_offset + f'"""{text}"""')
    return "\n".join(lines) + "\n" if missing else None
