"""The scripted model's role scripts: the tool calls they make and how they react to results."""

from __future__ import annotations

import pytest

from shared.agents.roles import ROLES, RoleName
from shared.agents.task import AgentTask, render_task
from shared.agents.tool_specs import ToolName as T
from shared.agents.tool_specs import tool_params
from shared.fakes.conversation import SAMPLE_CALCULATOR, Conversation, make_task
from shared.fakes.scripted_model import ScriptedModel
from shared.fakes.scripts.refactor import BREAKAGE
from shared.fakes.wire import MessagesRequest

ADD_TESTS = "tests/test_add_two_numbers.py"
RED = (
    "exit code 1; 0 passed, 3 failed, 0 error, 0 skipped (0.10 s)\n"
    f"FAILED {ADD_TESTS}::test_add_two_positive_numbers [assertion] "
    "AssertionError: calculator.add is not implemented\n"
    f"FAILED {ADD_TESTS}::test_add_floats [assertion] AssertionError: calculator.add is not implemented"
)
GREEN = "exit code 0; 4 passed, 0 failed, 0 error, 0 skipped (0.10 s)"


def _code_task(title: str = "Add two numbers", **fields: object) -> AgentTask:
    ids = [f"{ADD_TESTS}::test_add_two_positive_numbers", f"{ADD_TESTS}::test_add_floats"]
    return make_task(RoleName.CODE, title, red_test_ids=ids, **fields)


def _qa_tests(title: str = "Add two numbers") -> str:
    convo = Conversation(make_task(RoleName.QA, title))
    convo.call()
    return str(convo.step(SAMPLE_CALCULATOR).input["content"])


# --- no task, determinism, limits ---------------------------------------------------------


def test_without_a_task_block_it_just_answers_text() -> None:
    request = MessagesRequest.model_validate(
        {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": "Hello"}]}
    )
    reply = ScriptedModel().respond(request)
    assert reply.stop_reason == "end_turn"
    assert reply.tool_calls == []


def test_an_unreadable_task_block_is_reported_not_raised() -> None:
    text = '<task>{"role": "wizard", "project_id": "p"}</task>'
    request = MessagesRequest.model_validate(
        {"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": text}]}
    )
    reply = ScriptedModel().respond(request)
    assert reply.stop_reason == "end_turn"
    assert "cannot read" in str(reply.content[0])


def test_the_same_conversation_gets_the_same_reply_ids_included() -> None:
    a, b = Conversation(_code_task()), Conversation(_code_task(), model=ScriptedModel())
    for convo in (a, b):
        convo.call()
        convo.step("tests text")
    assert a.calls == b.calls
    assert a.model.respond(a.request()) == b.model.respond(b.request())


def test_tool_ids_look_like_anthropics_and_never_repeat() -> None:
    convo = Conversation(make_task(RoleName.DESIGN, "[fault:endless] Add"))
    calls = [convo.call()] + [convo.step() for _ in range(8)]
    assert all(c.id.startswith("toolu_01") for c in calls)
    assert len({c.id for c in calls}) == len(calls)


def test_a_script_stops_at_its_turn_budget() -> None:
    convo = Conversation(_code_task(), model=ScriptedModel(max_turns=2))
    convo.call()
    convo.step("tests")
    convo.answer(RED)
    assert "turn budget" in convo.end()


def test_a_tool_that_is_not_offered_is_not_called() -> None:
    convo = Conversation(make_task(RoleName.DESIGN), tools=[])
    assert "not available" in convo.end()


# --- backlog ------------------------------------------------------------------------------


def _backlog(title: str, description: str = "") -> Conversation:
    task = AgentTask(
        role=RoleName.BACKLOG, project_id="p", epic_title=title, epic_description=description
    )
    return Conversation(task)


def test_backlog_proposes_one_story_per_operation_of_a_calculator_epic() -> None:
    convo = _backlog("Calculator", "Users can add, subtract and multiply numbers.")
    assert convo.call().name == T.LIST_FILES
    proposal = convo.step("calculator.py\ntests/test_calculator.py")
    assert proposal.name == T.PROPOSE_STORIES
    stories = proposal.input["stories"]
    assert [s["title"] for s in stories] == [
        "Add two numbers",
        "Subtract two numbers",
        "Multiply two numbers",
    ]
    assert all(2 <= len(s["acceptance_criteria"]) <= 3 for s in stories)
    convo.answer("received 3 proposed stories")
    assert "3 stories" in convo.end()


def _proposed(title: str, description: str = "") -> list[str]:
    convo = _backlog(title, description)
    convo.call()
    return [s["title"] for s in convo.step("calculator.py").input["stories"]]


def test_backlog_follows_the_epic_text_and_splits_other_epics_generically() -> None:
    assert _proposed("Division", "Divide, then raise to a power") == [
        "Divide two numbers",
        "Raise a number to a power",
    ]
    assert _proposed("User login [fault:endless@code]") == [
        "User login: core behaviour",
        "User login: invalid input",
        "User login: documentation",
    ]


def test_backlog_retries_a_refused_proposal_once_then_gives_up() -> None:
    convo = _backlog("Calculator")
    convo.call()
    first = convo.step("calculator.py")
    second = convo.step("invalid input for propose_stories", is_error=True)
    assert second.name == T.PROPOSE_STORIES
    assert len(second.input["stories"]) == len(first.input["stories"])
    convo.answer("still invalid", is_error=True)
    assert "could not propose" in convo.end()


# --- design -------------------------------------------------------------------------------


def test_design_reads_writes_a_note_and_refines_criteria() -> None:
    convo = Conversation(make_task(RoleName.DESIGN))
    assert convo.call().input == {"path": "calculator.py"}
    note = convo.step(SAMPLE_CALCULATOR)
    assert note.name == T.WRITE_FILE
    assert note.input["path"] == "docs/design/S-1.md"
    for part in ("## Interface", "calculator.add", "## Edge cases", "defines: identity"):
        assert part in note.input["content"]
    criteria = convo.step("created docs/design/S-1.md")
    assert criteria.name == T.SET_ACCEPTANCE_CRITERIA
    assert "calculator.add(2, 3) returns 5" in criteria.input["criteria"]
    convo.answer("recorded 3 acceptance criteria")
    assert "docs/design/S-1.md" in convo.end()


def test_design_takes_another_docs_path_when_the_first_is_refused() -> None:
    task = make_task(RoleName.DESIGN, design_note_path="design/S-1.txt", hint="mention floats")
    convo = Conversation(task)
    convo.call()
    first = convo.step("no such file", is_error=True)
    assert first.input["path"] == "design/S-1.txt"
    assert "calculator.py does not exist yet" in first.input["content"]
    assert "mention floats" in first.input["content"]
    assert convo.step("refused", is_error=True).input["path"] == "docs/s_1.md"


# --- qa -----------------------------------------------------------------------------------


def test_qa_writes_assertion_failing_tests_runs_them_and_reports_the_failures() -> None:
    convo = Conversation(make_task(RoleName.QA))
    assert convo.call().input == {"path": "calculator.py"}
    write = convo.step(SAMPLE_CALCULATOR)
    assert write.input["path"] == ADD_TESTS
    assert "getattr(calculator, name, None)" in write.input["content"]
    assert "from calculator import" not in write.input["content"]
    run = convo.step("created")
    assert run.name == T.RUN_TESTS
    assert run.input == {"paths": [ADD_TESTS]}
    convo.answer(RED)
    summary = convo.end()
    assert f"{ADD_TESTS}::test_add_floats" in summary
    assert "not import errors" in summary


def test_qa_guards_the_import_when_the_module_is_missing() -> None:
    convo = Conversation(make_task(RoleName.QA))
    convo.call()
    convo.step("no such file: 'calculator.py'", is_error=True)
    convo.step("created")
    rewrite = convo.step("ERROR tests/x.py ModuleNotFoundError: No module named 'calculator'")
    assert rewrite.name == T.WRITE_FILE
    assert "importlib.import_module" in rewrite.input["content"]
    assert convo.step("overwrote").name == T.RUN_TESTS


def test_qa_writes_at_the_root_when_the_tests_folder_is_refused() -> None:
    convo = Conversation(make_task(RoleName.QA))
    convo.call()
    convo.step(SAMPLE_CALCULATOR)
    assert convo.step("refused", is_error=True).input["path"] == "test_add_two_numbers.py"
    convo.answer("refused", is_error=True)
    assert "refused" in convo.end()


def test_qa_notices_tests_that_already_pass() -> None:
    convo = Conversation(make_task(RoleName.QA))
    convo.call()
    convo.step(SAMPLE_CALCULATOR)
    convo.step("created")
    convo.answer(GREEN)
    assert "already pass" in convo.end()


@pytest.mark.parametrize(
    ("title", "fields", "import_style"),
    [
        ("Add [fault:red-import-error]", {}, True),
        ("Add [fault:red-import-error]", {"attempt": 2, "refusal": "failed by ImportError"}, False),
        ("Add [fault:red-import-error!]", {"attempt": 3}, True),
        ("Add [fault:red-import-error@code]", {}, False),
    ],
)
def test_qa_import_error_fault_and_its_cure(
    title: str, fields: dict[str, object], import_style: bool
) -> None:
    convo = Conversation(make_task(RoleName.QA, title, **fields))
    convo.call()
    content = convo.step(SAMPLE_CALCULATOR).input["content"]
    assert ("from calculator import add" in content) is import_style


def test_qa_with_the_fault_claims_success_over_an_import_error() -> None:
    convo = Conversation(make_task(RoleName.QA, "Add [fault:red-import-error]"))
    convo.call()
    convo.step(SAMPLE_CALCULATOR)
    convo.step("created")
    convo.answer("ERROR tests/test_add.py ImportError: cannot import name 'add' from 'calculator'")
    assert "fail as required" in convo.end()


# --- code ---------------------------------------------------------------------------------


def test_code_reads_the_red_tests_runs_them_implements_and_goes_green() -> None:
    convo = Conversation(_code_task())
    assert convo.call().input == {"path": ADD_TESTS}
    run = convo.step(_qa_tests())
    assert run.input == {"paths": [ADD_TESTS]}
    assert convo.step(RED).input == {"path": "calculator.py"}
    write = convo.step(SAMPLE_CALCULATOR)
    assert write.input["path"] == "calculator.py"
    content = write.input["content"]
    assert "def identity(x: int) -> int:" in content
    assert "def add(a: float, b: float) -> float:\n    return a + b" in content
    assert convo.step("overwrote calculator.py").name == T.RUN_TESTS
    convo.answer(GREEN)
    assert "pass now" in convo.end()


def test_code_implements_what_a_hint_names_and_says_so() -> None:
    convo = Conversation(_code_task(hint="also add a modulo function"))
    convo.call()
    convo.step(_qa_tests())
    convo.step(RED)
    write = convo.step(SAMPLE_CALCULATOR)
    assert "def add(" in write.input["content"]
    assert "def modulo(" in write.input["content"]
    convo.step("overwrote")
    convo.answer(GREEN)
    assert "I took the hint into account: also add a modulo function" in convo.end()


def test_the_task_may_sit_in_the_system_prompt() -> None:
    task = render_task(make_task(RoleName.DESIGN), "")
    request = MessagesRequest.model_validate(
        {
            "model": "m",
            "max_tokens": 100,
            "system": task,
            "messages": [{"role": "user", "content": "Go."}],
            "tools": tool_params(ROLES[RoleName.DESIGN].tools),
        }
    )
    assert ScriptedModel().respond(request).tool_calls[0].input == {"path": "calculator.py"}


def test_code_implements_what_the_failure_output_names() -> None:
    convo = Conversation(_code_task("Something"))
    convo.call()
    convo.step("no such file", is_error=True)
    convo.step("FAILED t.py::test_x AssertionError: calculator.divide is not implemented")
    write = convo.step("no such file", is_error=True)
    assert write.input["content"].startswith('"""A tiny calculator."""')
    assert 'raise ValueError("cannot divide by zero") from error' in write.input["content"]


def test_code_fixes_a_wrong_implementation_once_more_then_stops() -> None:
    wrong = SAMPLE_CALCULATOR + "\n\ndef add(a, b):\n    return a - b\n"
    convo = Conversation(_code_task())
    convo.call()
    convo.step(_qa_tests())
    convo.step(RED.replace("calculator.add is not implemented", "assert -1 == 5"))
    fix = convo.step(wrong)
    assert "return a + b" in fix.input["content"]
    assert "return a - b" not in fix.input["content"]
    convo.step("overwrote")
    convo.answer(RED)
    assert "I cannot tell what to change" in convo.end()


def test_code_stops_when_its_write_is_refused() -> None:
    convo = Conversation(_code_task())
    convo.call()
    convo.step(_qa_tests())
    convo.step(RED)
    convo.step(SAMPLE_CALCULATOR)
    convo.answer("the code role may not write here", is_error=True)
    assert "refused" in convo.end()


def test_code_green_lie_runs_the_tests_and_claims_success() -> None:
    convo = Conversation(_code_task("Add [fault:green-lie]"))
    assert convo.call().name == T.RUN_TESTS
    convo.answer(RED)
    assert "all tests pass" in convo.end()


def test_code_writes_test_fault_tries_test_paths_then_works_normally() -> None:
    convo = Conversation(_code_task("Add two numbers [fault:code-writes-test]"))
    write = convo.call()
    assert (write.name, write.input["path"]) == (T.WRITE_FILE, ADD_TESTS)
    edit = convo.step("refused", is_error=True)
    assert (edit.name, edit.input["path"]) == (T.EDIT_FILE, "tests/test_calculator.py")
    assert convo.step("refused", is_error=True).input == {"path": ADD_TESTS}


# --- refactor -----------------------------------------------------------------------------


def _refactor(title: str = "Add two numbers") -> Conversation:
    return Conversation(make_task(RoleName.REFACTOR, title))


ADDED = SAMPLE_CALCULATOR + "\n\ndef add(a: float, b: float) -> float:\n    return a + b\n"


def test_refactor_documents_the_code_checks_the_suite_and_reviews() -> None:
    convo = _refactor()
    convo.call()
    assert convo.step(ADDED).input == {}
    write = convo.step(GREEN)
    assert '    """Return the sum of a and b."""\n    return a + b' in write.input["content"]
    assert convo.step("overwrote").input == {}
    convo.answer(GREEN)
    review = convo.end()
    assert "docstrings to identity, add" in review
    assert "is green" in review


def test_refactor_reverts_a_change_that_turns_the_suite_red() -> None:
    convo = _refactor()
    convo.call()
    convo.step(ADDED)
    convo.step(GREEN)
    convo.step("overwrote")
    revert = convo.step(RED)
    assert revert.input == {"path": "calculator.py", "content": ADDED}
    convo.step("overwrote")
    convo.answer(GREEN)
    assert "left the code as it was" in convo.end()


def test_refactor_will_not_start_on_red() -> None:
    convo = _refactor()
    convo.call()
    convo.step(ADDED)
    convo.answer(RED)
    assert "will not refactor on red" in convo.end()


def test_refactor_breaks_fault_breaks_the_module_and_claims_green() -> None:
    convo = _refactor("Add [fault:refactor-breaks]")
    convo.call()
    write = convo.step(ADDED)
    assert write.input["content"].endswith(BREAKAGE)
    assert convo.step("overwrote").name == T.RUN_TESTS
    convo.answer("exit code 2; collection errors: RuntimeError: refactor broke the module")
    assert "suite is green" in convo.end()


# --- data, endless, traversal -------------------------------------------------------------


def test_data_narrates_the_metrics_of_the_prompt() -> None:
    task = AgentTask(role=RoleName.DATA, project_id="p")
    text = Conversation(task, prompt="Velocity: 8\nStories done = 3\nCycle time: 1.5").end()
    assert "Velocity 8" in text
    assert "Stories done 3" in text
    assert "Cycle time 1.5" in text


def test_endless_fault_never_ends_its_turn() -> None:
    convo = Conversation(make_task(RoleName.CODE, "[fault:endless]"), model=ScriptedModel(3))
    names = [convo.call().name] + [convo.step().name for _ in range(20)]
    assert set(names) == {T.LIST_FILES, T.READ_FILE, T.SEARCH_FILES}


def test_traversal_fault_tries_every_escape_then_works_and_reports() -> None:
    convo = Conversation(make_task(RoleName.DESIGN, "Add two numbers [fault:traversal]"))
    paths = [convo.call().input["path"]]
    paths += [convo.step("refused", is_error=True).input["path"] for _ in range(5)]
    assert paths == [
        "../../etc/passwd",
        "/etc/passwd",
        "../awf-escape.txt",
        "escape/passwd",
        "escape/awf-escape.txt",
        "..",
    ]
    assert convo.step("refused", is_error=True).input == {"path": "calculator.py"}
    convo.step(SAMPLE_CALCULATOR)
    convo.step("created")
    convo.answer("recorded")
    assert "Traversal attempts: 6 refused, 0 allowed." in convo.end()


def test_traversal_reports_an_escape_that_was_allowed() -> None:
    task = AgentTask(role=RoleName.DATA, project_id="p", epic_title="[fault:traversal]")
    convo = Conversation(task)
    assert convo.call().input == {"path": "../../etc/passwd"}
    later = [convo.step("root:x:0:0")]  # a broken tool layer let this one through
    later += [convo.step("refused", is_error=True) for _ in range(2)]
    # the data role may not write, so it only tries the reads and the listing
    assert [c.input["path"] for c in later] == ["/etc/passwd", "escape/passwd", ".."]
    convo.answer("refused", is_error=True)
    text = convo.end()
    assert "Traversal attempts: 3 refused, 1 allowed. ESCAPED: ../../etc/passwd." in text


def test_a_calculator_story_never_overwrites_the_sample_tests() -> None:
    convo = Conversation(make_task(RoleName.QA, "Calculator"))
    convo.call()
    assert convo.step(SAMPLE_CALCULATOR).input["path"] == "tests/test_calculator_s_1.py"
