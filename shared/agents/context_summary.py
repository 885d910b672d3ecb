"""Summaries of files too large to show whole.

Python: the module docstring, then every class and function signature (with decorators and
class fields) and the first paragraph of its docstring, read with `ast`. Anything else, or
Python that does not parse: the first lines.
"""

from __future__ import annotations

import ast
import threading

__all__ = ["HEAD_LINES", "clip", "summarize"]

HEAD_LINES = 40
_LINE_CHARS = 200
_Def = ast.FunctionDef | ast.AsyncFunctionDef
# CPython 3.11 keeps the AST recursion depth in shared state: two threads parsing at once can
# fail with "SystemError: AST constructor recursion depth mismatch" (seen with racing builds).
_PARSING = threading.Lock()


def summarize(path: str, text: str) -> str:
    if path.endswith(".py"):
        try:
            with _PARSING:
                tree = ast.parse(text)
            return _python_outline(tree)
        except (SyntaxError, ValueError, RecursionError):
            pass
    return _head(text)


def clip(text: str, max_chars: int) -> str:
    """Whole lines of `text` within `max_chars`, marked when cut; "" when nothing fits."""
    if len(text) <= max_chars:
        return text
    marker = "\n… (clipped)"
    kept: list[str] = []
    used = len(marker)
    for line in text.splitlines():
        if used + len(line) + 1 > max_chars:
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept) + marker if kept else ""


def _head(text: str) -> str:
    lines = text.splitlines()
    shown = [line[:_LINE_CHARS] for line in lines[:HEAD_LINES]]
    if len(lines) > HEAD_LINES:
        shown.append(f"… ({len(lines) - HEAD_LINES} more lines)")
    return "\n".join(shown)


def _python_outline(tree: ast.Module) -> str:
    lines = _docstring(tree, "")
    for node in tree.body:
        lines += _outline(node, "")
    return "\n".join(lines)


def _outline(node: ast.stmt, indent: str) -> list[str]:
    if isinstance(node, _Def):
        return [*_decorators(node, indent), indent + _signature(node), *_docstring(node, indent)]
    if isinstance(node, ast.ClassDef):
        return _class(node, indent)
    if isinstance(node, ast.AnnAssign) and indent:
        return [indent + ast.unparse(node)[:_LINE_CHARS]]
    return []


def _class(node: ast.ClassDef, indent: str) -> list[str]:
    bases = [ast.unparse(b) for b in node.bases] + [ast.unparse(k) for k in node.keywords]
    parents = f"({', '.join(bases)})" if bases else ""
    header = f"{indent}class {node.name}{parents}:"
    lines = [*_decorators(node, indent), header, *_docstring(node, indent)]
    for child in node.body:
        lines += _outline(child, indent + "    ")
    return lines


def _signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    prefix = "async def" if isinstance(node, ast.AsyncFunctionDef) else "def"
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    return f"{prefix} {node.name}({ast.unparse(node.args)}){returns}: ..."


def _decorators(node: _Def | ast.ClassDef, indent: str) -> list[str]:
    return [f"{indent}@{ast.unparse(d)}"[:_LINE_CHARS] for d in node.decorator_list]


def _docstring(node: _Def | ast.ClassDef | ast.Module, indent: str) -> list[str]:
    doc = ast.get_docstring(node)
    if not doc:
        return []
    first = doc.strip().split("\n\n", 1)[0].replace("\n", " ")[:_LINE_CHARS]
    inner = indent + "    " if not isinstance(node, ast.Module) else ""
    return [f'{inner}"""{first}"""']
