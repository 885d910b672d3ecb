"""Execute one agent tool call: allow-list, input validation, path rules, limits, time box.

:func:`execute_tool` never raises: an unknown or forbidden tool, bad input, a refused path, a
timeout or any unexpected exception becomes a :class:`ToolResult` with ``is_error=True`` and a
message for the model. Every result carries ``record``, a compact JSON-able summary for the
timeline (tool, input summary without file contents, outcome, bytes, duration).

``propose_stories`` and ``set_acceptance_criteria`` are not executed here: their validated input
is acknowledged and returned in ``record["output"]`` for the agent loop to collect.
``run_tests`` puts the :class:`TestRun` in ``ToolResult.test_run`` (and its JSON form in
``record["test_run"]``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.agents import tools_exec, tools_files
from shared.agents.paths import ToolError
from shared.agents.roles import Role
from shared.agents.testrunner import TestLimits
from shared.agents.tool_specs import TOOL_SPECS
from shared.agents.tool_specs import ToolName as T
from shared.agents.tools_files import ToolOutput
from shared.agents.workspace import WorkspaceError
from shared.domain.evidence import TestRun

__all__ = [
    "INPUT_MODELS",
    "EditFileInput",
    "GitDiffInput",
    "GitStatusInput",
    "ListFilesInput",
    "ProposeStoriesInput",
    "ReadFileInput",
    "RunTestsInput",
    "SearchFilesInput",
    "SetAcceptanceCriteriaInput",
    "StoryInput",
    "ToolContext",
    "ToolResult",
    "WriteFileInput",
    "execute_tool",
]

_SUMMARY_CHARS = 200
_ERROR_CHARS = 500
_RUN_TESTS_GRACE_S = 30.0


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class ListFilesInput(_Input):
    path: str = "."
    pattern: str | None = None


class ReadFileInput(_Input):
    path: str
    start_line: int | None = Field(default=None, ge=1)
    end_line: int | None = Field(default=None, ge=1)


class SearchFilesInput(_Input):
    query: str = Field(max_length=500)
    path: str = "."
    glob: str | None = None


class WriteFileInput(_Input):
    path: str
    content: str


class EditFileInput(_Input):
    path: str
    old: str = Field(min_length=1)
    new: str


class RunTestsInput(_Input):
    paths: list[str] = Field(default_factory=list, max_length=50)


class GitStatusInput(_Input):
    pass


class GitDiffInput(_Input):
    path: str | None = None


class StoryInput(_Input):
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=10000)
    acceptance_criteria: list[str] = Field(max_length=50)


class ProposeStoriesInput(_Input):
    stories: list[StoryInput] = Field(min_length=1, max_length=20)


class SetAcceptanceCriteriaInput(_Input):
    criteria: list[str] = Field(min_length=1, max_length=50)


INPUT_MODELS: dict[str, type[_Input]] = {
    T.LIST_FILES: ListFilesInput,
    T.READ_FILE: ReadFileInput,
    T.SEARCH_FILES: SearchFilesInput,
    T.WRITE_FILE: WriteFileInput,
    T.EDIT_FILE: EditFileInput,
    T.RUN_TESTS: RunTestsInput,
    T.GIT_STATUS: GitStatusInput,
    T.GIT_DIFF: GitDiffInput,
    T.PROPOSE_STORIES: ProposeStoriesInput,
    T.SET_ACCEPTANCE_CRITERIA: SetAcceptanceCriteriaInput,
}


@dataclass(frozen=True)
class ToolContext:
    """Where and as whom tools run, with their limits."""

    root: Path
    role: Role
    test_command: str = "python -m pytest -q"
    test_limits: TestLimits = field(default_factory=TestLimits)
    max_file_bytes: int = 256_000
    max_output_chars: int = 40_000
    call_timeout_s: float = 30.0

    def timeout_for(self, name: str) -> float:
        if name == T.RUN_TESTS:
            return self.test_limits.wall_s + _RUN_TESTS_GRACE_S
        return self.call_timeout_s


@dataclass(frozen=True)
class ToolResult:
    """The tool_result for the model (``content``, ``is_error``) and the timeline ``record``."""

    content: str
    is_error: bool
    record: dict[str, Any]
    test_run: TestRun | None = None


async def execute_tool(ctx: ToolContext, name: str, raw_input: object) -> ToolResult:
    """Run tool ``name`` for ``ctx.role``; never raises."""
    started = time.monotonic()
    record: dict[str, Any] = {"tool": name, "role": str(ctx.role.name)}
    try:
        record["input"] = _raw_summary(raw_input)
        _check_allowed(ctx, name)
        inp = _validate(name, raw_input)
        record["input"] = _summarize_input(inp)
        async with asyncio.timeout(ctx.timeout_for(name)):  # not wait_for: CPython gh-86296
            output = await _dispatch(ctx, name, inp)
    except TimeoutError:
        return _error(record, started, f"{name} timed out after {ctx.timeout_for(name):g} s")
    except (ToolError, WorkspaceError) as exc:
        return _error(record, started, str(exc))
    except Exception as exc:
        return _error(record, started, f"{name} failed: {type(exc).__name__}: {exc}")
    record.update(output.extra, outcome="ok", duration_ms=_ms(started))
    return ToolResult(output.content, False, record, output.test_run)


def _error(record: dict[str, Any], started: float, message: str) -> ToolResult:
    record.update(outcome="error", error=message[:_ERROR_CHARS], duration_ms=_ms(started))
    return ToolResult(message, True, record)


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _check_allowed(ctx: ToolContext, name: str) -> None:
    allowed = ", ".join(n for n in TOOL_SPECS if n in ctx.role.tools)
    if name not in TOOL_SPECS:
        raise ToolError(f"unknown tool {name!r}; the {ctx.role.name} role may call: {allowed}")
    if name not in ctx.role.tools:
        raise ToolError(
            f"tool {name!r} is not allowed for the {ctx.role.name} role; it may call: {allowed}"
        )


def _validate(name: str, raw_input: object) -> _Input:
    if not isinstance(raw_input, dict):
        raise ToolError(f"the input of {name} must be a JSON object; {_fields(name)}")
    try:
        return INPUT_MODELS[name].model_validate(raw_input)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(input)'}: {e['msg']}" for e in exc.errors()
        )
        raise ToolError(f"invalid input for {name}: {problems}. {_fields(name)}") from None


def _fields(name: str) -> str:
    schema = TOOL_SPECS[name]["input_schema"]
    required = set(schema.get("required", []))
    fields = [
        f"{key} ({spec.get('type', 'any')}{', required' if key in required else ''})"
        for key, spec in schema["properties"].items()
    ]
    return "Fields: " + (", ".join(fields) if fields else "none (pass {})")


async def _dispatch(ctx: ToolContext, name: str, inp: _Input) -> ToolOutput:
    if name in _FILE_TOOLS:
        return await asyncio.to_thread(_FILE_TOOLS[name], ctx, inp)
    return await _ASYNC_TOOLS[name](ctx, inp)


async def _git_status(ctx: ToolContext, inp: GitStatusInput) -> ToolOutput:
    return await tools_exec.git_status(ctx)


async def _propose_stories(ctx: ToolContext, inp: ProposeStoriesInput) -> ToolOutput:
    return ToolOutput(
        f"received {len(inp.stories)} proposed stories; a human will review them",
        {"output": inp.model_dump(mode="json")},
    )


async def _set_criteria(ctx: ToolContext, inp: SetAcceptanceCriteriaInput) -> ToolOutput:
    return ToolOutput(
        f"recorded {len(inp.criteria)} acceptance criteria",
        {"output": inp.model_dump(mode="json")},
    )


_FILE_TOOLS: dict[str, Callable[[ToolContext, Any], ToolOutput]] = {
    T.LIST_FILES: tools_files.list_files,
    T.READ_FILE: tools_files.read_file,
    T.SEARCH_FILES: tools_files.search_files,
    T.WRITE_FILE: tools_files.write_file,
    T.EDIT_FILE: tools_files.edit_file,
}
_ASYNC_TOOLS: dict[str, Callable[[ToolContext, Any], Awaitable[ToolOutput]]] = {
    T.RUN_TESTS: tools_exec.run_tests,
    T.GIT_STATUS: _git_status,
    T.GIT_DIFF: tools_exec.git_diff,
    T.PROPOSE_STORIES: _propose_stories,
    T.SET_ACCEPTANCE_CRITERIA: _set_criteria,
}


def _summarize_input(inp: _Input) -> dict[str, Any]:
    """The input for the timeline: file contents replaced by their sizes, long text cut."""
    summary: dict[str, Any] = {}
    for key, value in inp.model_dump().items():
        if isinstance(inp, WriteFileInput) and key == "content":
            summary["content_bytes"] = len(value.encode())
        elif isinstance(inp, EditFileInput) and key in ("old", "new"):
            summary[f"{key}_chars"] = len(value)
        elif isinstance(value, list):
            summary[key] = _summarize_list(value)
        elif isinstance(value, str):
            summary[key] = value[:_SUMMARY_CHARS]
        elif value is not None:
            summary[key] = value
    return summary


def _summarize_list(value: list[Any]) -> Any:
    if all(isinstance(v, str) for v in value) and len(value) <= 50:
        return [v[:_SUMMARY_CHARS] for v in value]
    return {"items": len(value)}


def _raw_summary(raw: object) -> dict[str, Any]:
    if isinstance(raw, dict):
        return {"keys": sorted(str(k) for k in raw)[:20]}
    return {"type": type(raw).__name__}
