"""File tools: list, read, search, write and edit files inside the workspace.

Each function takes the validated input, checks every path with
:func:`~shared.agents.paths.resolve_path` (and the role's write rule for writes) and raises
:class:`~shared.agents.paths.ToolError` with a message for the model when a call is refused.
They are synchronous; the dispatcher runs them in a thread under a timeout.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from shared.agents.paths import ToolError, relative_posix, resolve_path

if TYPE_CHECKING:
    from shared.agents.tools import (
        EditFileInput,
        ListFilesInput,
        ReadFileInput,
        SearchFilesInput,
        ToolContext,
        WriteFileInput,
    )
    from shared.domain.evidence import TestRun

__all__ = [
    "MAX_LISTED",
    "MAX_MATCHES",
    "ToolOutput",
    "cap_text",
    "edit_file",
    "list_files",
    "read_file",
    "search_files",
    "write_file",
]

MAX_LISTED = 1000
MAX_MATCHES = 200
_MAX_LINE_SEARCHED = 2000
_MAX_LINE_SHOWN = 300
_RANGE_READ_FACTOR = 10


@dataclass
class ToolOutput:
    """What a tool returns to the dispatcher: text for the model plus record fields."""

    content: str
    extra: dict[str, Any] = field(default_factory=dict)
    test_run: TestRun | None = None


def cap_text(text: str, limit: int, hint: str = "") -> str:
    if len(text) <= limit:
        return text
    more = len(text) - limit
    return f"{text[:limit]}\n[… truncated: {more} more characters{'; ' + hint if hint else ''}]"


def _walk(root: Path, base: Path) -> Iterator[Path]:
    """Files under ``base`` (a resolved path inside ``root``), `.git` pruned, sorted, symlinked
    directories not followed."""
    if base.is_file():
        yield base
        return
    for current, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d.lower() != ".git")
        for name in sorted(files):
            yield Path(current) / name


def _matches(rel: str, pattern: str | None) -> bool:
    if not pattern:
        return True
    return fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(PurePosixPath(rel).name, pattern)


def list_files(ctx: ToolContext, inp: ListFilesInput) -> ToolOutput:
    base = resolve_path(ctx.root, inp.path, must_exist=True)
    root = ctx.root.resolve()
    listed: list[str] = []
    total = 0
    for path in _walk(root, base):
        rel = path.relative_to(root).as_posix()
        if _matches(rel, inp.pattern):
            total += 1
            if len(listed) < MAX_LISTED:
                listed.append(rel)
    if not listed:
        return ToolOutput(
            f"no files under {inp.path!r}" + (f" matching {inp.pattern!r}" if inp.pattern else ""),
            {"count": 0},
        )
    text = "\n".join(listed)
    if total > len(listed):
        text += f"\n[… {total - len(listed)} more files; narrow with path or pattern]"
    return ToolOutput(
        cap_text(text, ctx.max_output_chars, "narrow with path or pattern"), {"count": total}
    )


def _read_text(target: Path, rel: str, limit: int) -> str:
    if not target.is_file():
        raise ToolError(f"{rel!r} is not a file")
    size = target.stat().st_size
    if size > limit:
        raise ToolError(f"{rel!r} is {size} bytes; the limit is {limit} bytes")
    data = target.read_bytes()
    if b"\x00" in data:
        raise ToolError(f"{rel!r} is a binary file; only text files can be read")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError(f"{rel!r} is not UTF-8 text") from None


def read_file(ctx: ToolContext, inp: ReadFileInput) -> ToolOutput:
    target = resolve_path(ctx.root, inp.path, must_exist=True)
    ranged = inp.start_line is not None or inp.end_line is not None
    if not ranged and target.is_file() and target.stat().st_size > ctx.max_file_bytes:
        raise ToolError(
            f"{inp.path!r} is {target.stat().st_size} bytes, over the {ctx.max_file_bytes}-byte "
            "limit; read it in parts with start_line and end_line"
        )
    limit = ctx.max_file_bytes * (_RANGE_READ_FACTOR if ranged else 1)
    text = _read_text(target, inp.path, limit)
    if ranged:
        lines = text.splitlines(keepends=True)
        start = inp.start_line or 1
        end = inp.end_line or len(lines)
        if start > max(len(lines), 1) or end < start:
            raise ToolError(
                f"line range {start}-{end} is outside {inp.path!r}, which has {len(lines)} lines"
            )
        text = "".join(lines[start - 1 : end])
    return ToolOutput(
        cap_text(text, ctx.max_output_chars, "read a line range with start_line and end_line"),
        {"bytes": len(text.encode())},
    )


def search_files(ctx: ToolContext, inp: SearchFilesInput) -> ToolOutput:
    try:
        regex = re.compile(inp.query)
    except re.error as exc:
        raise ToolError(f"invalid regular expression {inp.query!r}: {exc}") from None
    base = resolve_path(ctx.root, inp.path, must_exist=True)
    root = ctx.root.resolve()
    found: list[str] = []
    more = False
    for path in _walk(root, base):
        rel = path.relative_to(root).as_posix()
        if not _matches(rel, inp.glob) or not _searchable(root, path, ctx.max_file_bytes):
            continue
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if regex.search(line[:_MAX_LINE_SEARCHED]):
                if len(found) == MAX_MATCHES:
                    more = True
                    break
                found.append(f"{rel}:{number}: {line.strip()[:_MAX_LINE_SHOWN]}")
        if more:
            break
    if not found:
        return ToolOutput(f"no matches for {inp.query!r}", {"matches": 0})
    text = "\n".join(found)
    if more:
        text += f"\n[… more than {MAX_MATCHES} matches; narrow the query, path or glob]"
    return ToolOutput(cap_text(text, ctx.max_output_chars), {"matches": len(found)})


def _searchable(root: Path, path: Path, limit: int) -> bool:
    """A regular text-sized file whose real location is inside the workspace, outside .git."""
    real = path.resolve()
    if not real.is_relative_to(root) or ".git" in real.relative_to(root).parts:
        return False
    try:
        return real.is_file() and real.stat().st_size <= limit
    except OSError:
        return False


def _check_writable(ctx: ToolContext, rel: str, target: Path) -> str:
    """The normalised path, if the role may write both it and its real location."""
    norm = PurePosixPath(rel).as_posix()
    for candidate in dict.fromkeys((norm, relative_posix(ctx.root, target))):
        if not ctx.role.can_write(candidate):
            raise ToolError(
                f"the {ctx.role.name} role {ctx.role.write_rule}; writing {candidate!r} is refused"
            )
    if target.is_dir():
        raise ToolError(f"{rel!r} is a directory")
    return norm


def _check_size(ctx: ToolContext, rel: str, data: bytes) -> None:
    if len(data) > ctx.max_file_bytes:
        raise ToolError(
            f"the new content of {rel!r} is {len(data)} bytes; the limit is {ctx.max_file_bytes}"
        )


def write_file(ctx: ToolContext, inp: WriteFileInput) -> ToolOutput:
    target = resolve_path(ctx.root, inp.path, must_exist=False)
    rel = _check_writable(ctx, inp.path, target)
    data = inp.content.encode("utf-8")
    _check_size(ctx, rel, data)
    existed = target.exists()
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    verb = "overwrote" if existed else "created"
    return ToolOutput(f"{verb} {rel} ({len(data)} bytes)", {"bytes": len(data), "path": rel})


def edit_file(ctx: ToolContext, inp: EditFileInput) -> ToolOutput:
    target = resolve_path(ctx.root, inp.path, must_exist=True)
    rel = _check_writable(ctx, inp.path, target)
    text = _read_text(target, rel, ctx.max_file_bytes)
    count = text.count(inp.old)
    if count == 0:
        raise ToolError(
            f"`old` was not found in {rel}; read the file and copy the exact text, "
            "whitespace included"
        )
    if count > 1:
        raise ToolError(
            f"`old` occurs {count} times in {rel}; include more surrounding lines so it is unique"
        )
    data = text.replace(inp.old, inp.new, 1).encode("utf-8")
    _check_size(ctx, rel, data)
    target.write_bytes(data)
    return ToolOutput(f"edited {rel} (1 replacement)", {"bytes": len(data), "path": rel})
