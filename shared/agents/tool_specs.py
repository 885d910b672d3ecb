"""The tools agents may call: names, descriptions and JSON input schemas.

This is the contract between the agent loop (which executes them in a workspace), the roles
(which allow a subset each) and the scripted model (which calls them by these names).
"""

from __future__ import annotations

from typing import Any

__all__ = ["TOOL_SPECS", "ToolName", "tool_params"]


class ToolName:
    LIST_FILES = "list_files"
    READ_FILE = "read_file"
    SEARCH_FILES = "search_files"
    WRITE_FILE = "write_file"
    EDIT_FILE = "edit_file"
    RUN_TESTS = "run_tests"
    GIT_STATUS = "git_status"
    GIT_DIFF = "git_diff"
    PROPOSE_STORIES = "propose_stories"
    SET_ACCEPTANCE_CRITERIA = "set_acceptance_criteria"


def _schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


_PATH = {"type": "string", "description": "Path relative to the repository root"}
_STORY = _schema(
    {
        "title": {"type": "string", "maxLength": 200},
        "description": {"type": "string", "maxLength": 10000},
        "acceptance_criteria": {"type": "array", "items": {"type": "string"}, "maxItems": 50},
    },
    ["title", "acceptance_criteria"],
)

TOOL_SPECS: dict[str, dict[str, Any]] = {
    ToolName.LIST_FILES: {
        "description": "List files under a directory of the repository (recursive, .git excluded).",
        "input_schema": _schema(
            {
                "path": {**_PATH, "default": "."},
                "pattern": {"type": "string", "description": "glob, e.g. *.py"},
            },
            [],
        ),
    },
    ToolName.READ_FILE: {
        "description": "Read a text file of the repository, optionally a line range (1-based).",
        "input_schema": _schema(
            {
                "path": _PATH,
                "start_line": {"type": "integer", "minimum": 1},
                "end_line": {"type": "integer", "minimum": 1},
            },
            ["path"],
        ),
    },
    ToolName.SEARCH_FILES: {
        "description": "Search the repository's text files for a regular expression; "
        "returns path:line: text matches.",
        "input_schema": _schema(
            {
                "query": {"type": "string", "maxLength": 500},
                "path": {**_PATH, "default": "."},
                "glob": {"type": "string"},
            },
            ["query"],
        ),
    },
    ToolName.WRITE_FILE: {
        "description": "Create or overwrite a text file (only paths your role may write).",
        "input_schema": _schema(
            {"path": _PATH, "content": {"type": "string"}}, ["path", "content"]
        ),
    },
    ToolName.EDIT_FILE: {
        "description": "Replace one exact, unique occurrence of `old` with `new` in a file.",
        "input_schema": _schema(
            {"path": _PATH, "old": {"type": "string", "minLength": 1}, "new": {"type": "string"}},
            ["path", "old", "new"],
        ),
    },
    ToolName.RUN_TESTS: {
        "description": "Run the project's test command (optionally only some test paths); "
        "returns exit code, per-test outcomes and the output tail.",
        "input_schema": _schema({"paths": {"type": "array", "items": _PATH, "maxItems": 50}}, []),
    },
    ToolName.GIT_STATUS: {
        "description": "git status of the working tree (porcelain).",
        "input_schema": _schema({}, []),
    },
    ToolName.GIT_DIFF: {
        "description": "git diff of the working tree against the last commit of the branch.",
        "input_schema": _schema({"path": _PATH}, []),
    },
    ToolName.PROPOSE_STORIES: {
        "description": "Propose the user stories that implement the epic; a human approves them.",
        "input_schema": _schema(
            {"stories": {"type": "array", "items": _STORY, "minItems": 1, "maxItems": 20}},
            ["stories"],
        ),
    },
    ToolName.SET_ACCEPTANCE_CRITERIA: {
        "description": "Replace the story's acceptance criteria with a refined, testable list.",
        "input_schema": _schema(
            {
                "criteria": {
                    "type": "array",
                    "items": {"type": "string"},
                    "minItems": 1,
                    "maxItems": 50,
                }
            },
            ["criteria"],
        ),
    },
}


def tool_params(names: frozenset[str]) -> list[dict[str, Any]]:
    """The `tools=` argument of messages.create for the given tool names, in a stable order."""
    return [{"name": n, **TOOL_SPECS[n]} for n in TOOL_SPECS if n in names]
