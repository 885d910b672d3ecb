"""Agent roles as data: who acts in which phase, with which tools, writing which paths.

The orchestrator enforces the path rules on every write (a QA agent may write only test
paths, a code agent never test paths, a design agent only docs); the prompts only explain them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath

from shared.agents.tool_specs import ToolName as T
from shared.domain.phases import Phase

__all__ = [
    "ROLES",
    "ROLE_BY_PHASE",
    "Phase",
    "Role",
    "RoleName",
    "is_docs_path",
    "is_test_path",
]


class RoleName(StrEnum):
    BACKLOG = "backlog"
    DESIGN = "design"
    QA = "qa"
    CODE = "code"
    REFACTOR = "refactor"
    DATA = "data"


def is_test_path(path: str) -> bool:
    """`tests/…`, `test_*.py`, `*_test.py` and `conftest.py` anywhere."""
    p = PurePosixPath(path)
    return (
        "tests" in p.parts[:-1]
        or "test" in p.parts[:-1]
        or p.name == "conftest.py"
        or (p.suffix == ".py" and (p.name.startswith("test_") or p.stem.endswith("_test")))
    )


def is_docs_path(path: str) -> bool:
    p = PurePosixPath(path)
    return (bool(p.parts) and p.parts[0] == "docs") or p.suffix in (".md", ".rst", ".txt")


def _code_path(path: str) -> bool:
    return not is_test_path(path)


def _nothing(path: str) -> bool:
    return False


_READ = frozenset({T.LIST_FILES, T.READ_FILE, T.SEARCH_FILES})
_GIT = frozenset({T.GIT_STATUS, T.GIT_DIFF})


@dataclass(frozen=True)
class Role:
    name: RoleName
    purpose: str
    tools: frozenset[str]
    may_write: Callable[[str], bool]
    write_rule: str

    def can_write(self, path: str) -> bool:
        return self.may_write(path)


ROLES: dict[RoleName, Role] = {
    r.name: r
    for r in (
        Role(
            RoleName.BACKLOG,
            "Turn an epic into small, testable user stories.",
            _READ | {T.PROPOSE_STORIES},
            _nothing,
            "writes no files",
        ),
        Role(
            RoleName.DESIGN,
            "Write a short design note for the story and refine its "
            "acceptance criteria into testable statements.",
            _READ | {T.WRITE_FILE, T.EDIT_FILE, T.SET_ACCEPTANCE_CRITERIA},
            is_docs_path,
            "may write only documentation (docs/…, *.md)",
        ),
        Role(
            RoleName.QA,
            "Write failing tests for every acceptance criterion. They must fail "
            "by assertion, never by ImportError or SyntaxError: reach not-yet-written names "
            "through getattr with an assertion message.",
            _READ | _GIT | {T.WRITE_FILE, T.EDIT_FILE, T.RUN_TESTS},
            is_test_path,
            "may write only test files (tests/…, test_*.py, conftest.py)",
        ),
        Role(
            RoleName.CODE,
            "Make the failing tests pass with the simplest code. Never change a test.",
            _READ | _GIT | {T.WRITE_FILE, T.EDIT_FILE, T.RUN_TESTS},
            _code_path,
            "may write any file except tests",
        ),
        Role(
            RoleName.REFACTOR,
            "Improve the code without changing behaviour; keep the whole "
            "suite green; review the diff.",
            _READ | _GIT | {T.WRITE_FILE, T.EDIT_FILE, T.RUN_TESTS},
            _code_path,
            "may write any file except tests",
        ),
        Role(
            RoleName.DATA,
            "Narrate sprint metrics and write the review summary.",
            _READ | _GIT,
            _nothing,
            "writes no files",
        ),
    )
}

ROLE_BY_PHASE: dict[Phase, RoleName] = {
    Phase.DESIGN: RoleName.DESIGN,
    Phase.TEST_RED: RoleName.QA,
    Phase.CODE_GREEN: RoleName.CODE,
    Phase.REFACTOR: RoleName.REFACTOR,
}
