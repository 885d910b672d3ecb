"""The parts under the scripted model and the fake server: markers, result parsing, source
edits, the calculator catalogue, request validation, rendering and fault bookkeeping."""

from __future__ import annotations

import json
import sys
import types
from typing import Any

import pytest
from pydantic import ValidationError

from shared.agents.roles import RoleName
from shared.agents.task import AgentTask, StoryBrief
from shared.fakes.conversation import SAMPLE_CALCULATOR, make_task
from shared.fakes.fake_state import FakeState, Fault, FaultKind
from shared.fakes.rendering import malformed_json, render, sse_events
from shared.fakes.scripts.markers import active_faults
from shared.fakes.scripts.ops import OPS, generic_op, ops_for_story, ops_in
from shared.fakes.scripts.pysource import add_docstrings, defined_functions, replace_function
from shared.fakes.scripts.results import file_text, missing_names, parse_test_report, wanted_names
from shared.fakes.scripts.testgen import render_tests
from shared.fakes.wire import MessagesRequest, ModelReply, TextOut, ToolCallOut

# --- markers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "title", "fields", "expected"),
    [
        (RoleName.CODE, "Add [fault:green-lie]", {}, {"green-lie"}),
        (RoleName.QA, "Add [fault:green-lie]", {}, set()),
        (RoleName.QA, "Add [fault:endless][fault:traversal]", {}, {"endless", "traversal"}),
        (RoleName.QA, "Add [fault:endless@code]", {}, set()),
        (RoleName.CODE, "Add [fault:endless@code]", {}, {"endless"}),
        (RoleName.CODE, "Add [fault:green-lie]", {"attempt": 2}, set()),
        (RoleName.CODE, "Add [fault:green-lie]", {"hint": "really fix it"}, set()),
        (RoleName.CODE, "Add [fault:green-lie]", {"refusal": "tests still red"}, set()),
        (RoleName.CODE, "Add [fault:green-lie!]", {"attempt": 3}, {"green-lie"}),
        (RoleName.CODE, "Add [fault:no-such-fault]", {}, set()),
    ],
)
def test_markers_switch_faults_on_per_role_and_attempt(
    role: RoleName, title: str, fields: dict[str, Any], expected: set[str]
) -> None:
    assert active_faults(make_task(role, title, **fields)) == expected


def test_backlog_markers_come_from_the_epic_title() -> None:
    task = AgentTask(role=RoleName.BACKLOG, project_id="p", epic_title="Calc [fault:endless]")
    assert active_faults(task) == {"endless"}


# --- reading tool results -----------------------------------------------------------------


def test_test_reports_from_the_tool_summary_json_and_pytest_text() -> None:
    summary = "exit code 1; 1 passed, 1 failed, 0 error, 0 skipped (0.1 s)\nFAILED t.py::test_a [x]"
    assert parse_test_report(summary) == parse_test_report(summary)
    assert not parse_test_report(summary).green
    assert parse_test_report(summary).failed_ids == ("t.py::test_a",)
    assert parse_test_report("exit code 0; 2 passed, 0 failed").green
    assert parse_test_report("timed out; 0 passed, 0 failed").green is False
    assert parse_test_report("===== 3 passed in 0.01s =====").green
    assert not parse_test_report("===== 1 failed, 3 passed in 0.01s =====").green
    assert not parse_test_report("3 passed", is_error=True).green
    run = {"exit_code": 1, "tests": [{"id": "t.py::test_b", "outcome": "error"}]}
    wrapped = json.dumps({"test_run": run})
    assert parse_test_report(wrapped).failed_ids == ("t.py::test_b",)
    assert parse_test_report(json.dumps({"exit_code": 0, "tests": []})).green


def test_failure_kinds_are_recognised() -> None:
    assert parse_test_report("ModuleNotFoundError: No module named 'calculator'").module_missing
    assert parse_test_report("ImportError: cannot import name 'add'").import_error
    assert parse_test_report("E   SyntaxError: invalid syntax").syntax_error


def test_file_text_strips_line_numbers_and_unwraps_json() -> None:
    assert file_text("1: def f():\n2:     return 1\n") == "def f():\n    return 1\n"
    assert file_text("   1\tx = 1\n   2\ty = 2") == "x = 1\ny = 2\n"
    assert file_text(json.dumps({"content": "x = 1\n"})) == "x = 1\n"
    assert file_text("x = 1\n2: not numbered above\n") == "x = 1\n2: not numbered above\n"


def test_names_a_test_file_uses_and_a_failure_says_are_missing() -> None:
    source = 'from calculator import add, subtract\nx = _fn("divide")\ncalculator.power(2, 3)\n'
    assert wanted_names(source) == ["divide", "power", "add", "subtract"]
    output = (
        "AssertionError: calculator.add is not implemented\n"
        "AttributeError: module 'calculator' has no attribute 'modulo'\n"
        "ImportError: cannot import name 'add' from 'calculator'"
    )
    assert missing_names(output) == ["add", "modulo"]


# --- source edits -------------------------------------------------------------------------


def test_docstrings_are_added_once_and_change_nothing_else() -> None:
    documented = add_docstrings(SAMPLE_CALCULATOR, {"identity": "Return x."})
    assert documented == SAMPLE_CALCULATOR.replace("-> int:\n", '-> int:\n    """Return x."""\n')
    assert add_docstrings(documented) is None
    assert add_docstrings("def f(:\n") is None
    assert add_docstrings("def f(): return 1\n") is None


def test_functions_are_listed_and_replaced() -> None:
    assert defined_functions(SAMPLE_CALCULATOR) == ["identity"]
    assert defined_functions("def a(:\ndef b():\n") == ["a", "b"]
    replaced = replace_function(SAMPLE_CALCULATOR, "identity", "def identity(x):\n    return +x\n")
    assert replaced == '"""A tiny calculator."""\n\n\ndef identity(x):\n    return +x\n'
    assert replace_function(SAMPLE_CALCULATOR, "missing", "def missing(): ...") is None


# --- the calculator catalogue: tests fail by assertion, the code makes them pass ----------


def _run_tests(source: str, module: types.ModuleType) -> dict[str, BaseException | None]:
    namespace: dict[str, Any] = {}
    sys.modules["calculator"] = module
    try:
        exec(compile(source, "test_generated.py", "exec"), namespace)  # noqa: S102 - our own text
        outcomes: dict[str, BaseException | None] = {}
        for name, fn in namespace.items():
            if name.startswith("test_"):
                try:
                    fn()
                    outcomes[name] = None
                except Exception as error:
                    outcomes[name] = error
        return outcomes
    finally:
        del sys.modules["calculator"]


@pytest.mark.parametrize("op", [*OPS, generic_op("square_root", "Square root")], ids=str)
def test_generated_tests_fail_by_assertion_then_pass_with_the_known_code(op: Any) -> None:
    source = render_tests(StoryBrief(id="S-9", title=op.title), [op])
    before = _run_tests(source, types.ModuleType("calculator"))
    assert before
    assert all(isinstance(e, AssertionError) for e in before.values()), before
    assert all(f"calculator.{op.name} is not implemented" in str(e) for e in before.values())
    implemented = types.ModuleType("calculator")
    exec(op.source, implemented.__dict__)  # noqa: S102 - our own text
    assert set(_run_tests(source, implemented).values()) == {None}


def test_operations_are_found_in_text_in_order_of_mention() -> None:
    assert [op.name for op in ops_in("multiply, then add; no division")] == [
        "multiply",
        "add",
        "divide",
    ]
    story = StoryBrief(id="S", title="Totals", acceptance_criteria=["the sum of two numbers"])
    assert [op.name for op in ops_for_story(story)] == ["add"]
    assert [op.name for op in ops_for_story(StoryBrief(id="S", title="Square root"))] == [
        "square_root"
    ]


# --- request validation -------------------------------------------------------------------


def _request(messages: list[dict[str, Any]], **extra: Any) -> MessagesRequest:
    return MessagesRequest.model_validate(
        {"model": "m", "max_tokens": 100, "messages": messages, **extra}
    )


USE = {"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "a"}}
RESULT = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "text"}


@pytest.mark.parametrize(
    ("messages", "message"),
    [
        ([{"role": "assistant", "content": "hi"}], "first message must use the user role"),
        ([{"role": "user", "content": ""}], "non-empty content"),
        ([{"role": "user", "content": [{"type": "text", "text": ""}]}], "at least 1 character"),
        (
            [{"role": "user", "content": "a"}, {"role": "assistant", "content": [USE]},
             {"role": "user", "content": "b"}],
            "without `tool_result` blocks immediately after: toolu_1",
        ),
        (
            [{"role": "user", "content": [RESULT]}],
            "unexpected `tool_use_id` found in `tool_result` blocks: toolu_1",
        ),
    ],
)  # fmt: skip
def test_conversation_rules_of_the_real_api(messages: list[dict[str, Any]], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _request(messages)


def test_a_valid_tool_round_trip_with_sdk_extras_is_accepted() -> None:
    assistant = [{"type": "text", "text": "t", "citations": None}, {**USE, "caller": None}]
    request = _request(
        [
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": assistant},
            {"role": "user", "content": [{**RESULT, "content": [{"type": "text", "text": "x"}]}]},
            {"role": "assistant", "content": []},
        ],
        system=[{"type": "text", "text": "sys"}],
        tools=[{"name": "read_file", "input_schema": {"type": "object"}}],
        metadata={"user_id": "u"},
    )
    assert request.system_text == "sys"
    assert request.tool_names() == {"read_file"}


# --- rendering ----------------------------------------------------------------------------

REPLY = ModelReply(
    (TextOut("Reading the file now."), ToolCallOut("toolu_01x", "read_file", {"path": "a.py"})),
    "tool_use",
)


def test_usage_is_estimated_and_max_tokens_cuts_the_reply() -> None:
    request = _request([{"role": "user", "content": "x" * 400}])
    full = render(request, REPLY)
    assert full.stop_reason == "tool_use"
    assert full.input_tokens > 100
    assert full.output_tokens > 5
    cut = render(request.model_copy(update={"max_tokens": 3}), REPLY)
    assert (cut.stop_reason, cut.output_tokens) == ("max_tokens", 3)
    assert cut.blocks == [{"type": "text", "text": "Reading the "}]


def test_stream_events_come_in_the_real_apis_order() -> None:
    events = list(sse_events(render(_request([{"role": "user", "content": "x"}]), REPLY)))
    kinds = [e["type"] for e in events]
    assert kinds[:3] == ["message_start", "ping", "content_block_start"]
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert kinds.count("content_block_start") == kinds.count("content_block_stop") == 2
    partial = "".join(
        e["delta"]["partial_json"]
        for e in events
        if e.get("delta", {}).get("type") == "input_json_delta"
    )
    assert json.loads(partial) == {"path": "a.py"}
    assert events[-2]["delta"]["stop_reason"] == "tool_use"


def test_malformed_json_is_invalid_even_for_a_partial_parser() -> None:
    from jiter import from_json

    for value in ({"path": "a"}, {}):
        with pytest.raises(ValueError):
            from_json(malformed_json(value).encode(), partial_mode=True)


# --- fault bookkeeping --------------------------------------------------------------------


def test_faults_queue_in_order_and_are_used_up() -> None:
    state = FakeState()
    state.add_fault(Fault(kind=FaultKind.RATE_LIMITED, count=2))
    state.add_fault(Fault(kind=FaultKind.SLOW))
    taken = [state.take_fault() for _ in range(4)]
    assert [f.kind if f else None for f in taken] == ["429", "429", "slow", None]
    state.record("qa", 200, (10, 5), streamed=True)
    stats = state.stats()
    assert stats["faults_applied"] == {"429": 2, "slow": 1}
    assert (stats["calls"], stats["streamed"], stats["by_role"]) == (1, 1, {"qa": 1})
    assert (stats["input_tokens"], stats["output_tokens"]) == (10, 5)


def test_fault_bodies_are_validated() -> None:
    with pytest.raises(ValidationError):
        Fault.model_validate({"kind": "418"})
    with pytest.raises(ValidationError):
        Fault.model_validate({"kind": "429", "count": 0})
