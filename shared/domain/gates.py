"""Evidence gates: may a phase's work be accepted? Pure functions over recorded evidence.

- DESIGN: a design note exists and only documentation changed.
- TEST_RED: new or changed tests exist and fail, every failure by assertion (not an import,
  syntax or name error), and nothing but tests changed.
- CODE_GREEN: the RED tests pass and no test file changed since RED.
- REFACTOR: the whole suite is green and no test file changed since RED.
- COMMIT: the whole suite is green and the tree is clean on the story branch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shared.domain.evidence import FailureKind, Outcome, TestRun

__all__ = [
    "GateResult",
    "changed_test_files",
    "gate_commit",
    "gate_design",
    "gate_green",
    "gate_red",
    "gate_refactor",
]


@dataclass(frozen=True)
class GateResult:
    passed: bool
    reason: str
    red_test_ids: list[str] = field(default_factory=list)


def _refuse(reason: str) -> GateResult:
    return GateResult(False, reason)


def gate_design(changed: list[str], note_path: str, non_docs: list[str]) -> GateResult:
    if note_path not in changed:
        return _refuse(f"No design note was written at {note_path}.")
    if non_docs:
        return _refuse(f"The design phase may change only documentation; it changed {non_docs}.")
    return GateResult(True, f"Design note {note_path} written.")


def gate_red(run: TestRun, changed_tests: list[str], changed_other: list[str]) -> GateResult:
    if changed_other:
        return _refuse(f"The test phase may change only test files; it changed {changed_other}.")
    if not changed_tests:
        return _refuse("No test file was added or changed.")
    if run.timed_out or run.collection_errors:
        detail = "timed out" if run.timed_out else "; ".join(run.collection_errors)[:500]
        return _refuse(
            f"The tests did not run: {detail}. They must import and run, then fail by assertion."
        )
    new = [t for t in run.tests if _in_files(t.id, changed_tests)]
    failing = [t for t in new if t.outcome in (Outcome.FAILED, Outcome.ERROR)]
    if not failing:
        return _refuse(f"The new tests in {changed_tests} do not fail; RED needs failing tests.")
    wrong = [
        t for t in failing if t.outcome is Outcome.ERROR or t.kind is not FailureKind.ASSERTION
    ]
    if wrong:
        listed = ", ".join(f"{t.id} ({t.kind.value if t.kind else t.outcome.value})" for t in wrong)
        return _refuse(
            f"Tests must fail by assertion, not by import, syntax or name errors: "
            f"{listed}. Reach missing names through getattr with an assertion."
        )
    ids = [t.id for t in failing]
    return GateResult(True, f"{len(ids)} new test(s) fail by assertion.", ids)


def gate_green(run: TestRun, red_ids: list[str], tests_changed: list[str]) -> GateResult:
    if tests_changed:
        return _refuse(
            f"Test files changed since RED: {tests_changed}. Make the code pass the "
            "tests as written."
        )
    passed = set(run.ids(Outcome.PASSED))
    still_red = [i for i in red_ids if i not in passed]
    if run.timed_out or still_red:
        detail = "the run timed out" if run.timed_out else f"still failing: {still_red}"
        return _refuse(f"The RED tests must pass now; {detail}.")
    return GateResult(True, f"All {len(red_ids)} RED test(s) pass.")


def gate_refactor(run: TestRun, tests_changed: list[str]) -> GateResult:
    if tests_changed:
        return _refuse(f"Refactoring may not change tests; changed: {tests_changed}.")
    if not run.green:
        failing = run.ids(Outcome.FAILED) + run.ids(Outcome.ERROR)
        detail = "timed out" if run.timed_out else f"failing: {failing[:10]}"
        return _refuse(f"The whole suite must stay green after refactoring; {detail}.")
    return GateResult(True, f"Suite green: {len(run.ids(Outcome.PASSED))} passed.")


def gate_commit(run: TestRun, clean: bool, branch: str, default_branch: str) -> GateResult:
    if branch == default_branch:
        return _refuse(f"Refusing to commit on the default branch {default_branch}.")
    if not clean:
        return _refuse("The working tree is not clean after the commit.")
    if not run.green:
        return _refuse("The whole suite must be green to commit.")
    return GateResult(True, f"Committed on {branch} with the suite green.")


def changed_test_files(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Test files added, removed or edited between two digest maps."""
    names = set(before) | set(after)
    return sorted(n for n in names if before.get(n) != after.get(n))


def _in_files(test_id: str, files: list[str]) -> bool:
    return test_id.split("::", 1)[0] in files
