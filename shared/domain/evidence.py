"""Evidence the orchestrator records itself: test runs, changed files, commits.

Gates decide on these records, never on what an agent says it did.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from shared.domain.models import utcnow

__all__ = ["FailureKind", "Outcome", "PhaseEvidence", "TestOutcome", "TestRun"]


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"  # the test ran and an assertion (or other exception) failed it
    ERROR = "error"  # setup/collection error: the test could not run
    SKIPPED = "skipped"


class FailureKind(StrEnum):
    ASSERTION = "assertion"  # AssertionError or pytest's Failed
    IMPORT = "import"  # ImportError / ModuleNotFoundError
    SYNTAX = "syntax"  # SyntaxError / IndentationError
    NAME = "name"  # NameError / AttributeError on a missing name
    TIMEOUT = "timeout"
    OTHER = "other"


class TestOutcome(BaseModel):
    id: str = Field(description="pytest node id, e.g. tests/test_calc.py::test_add")
    outcome: Outcome
    kind: FailureKind | None = None
    message: str = ""
    duration_s: float = 0.0


class TestRun(BaseModel):
    command: list[str]
    exit_code: int | None
    duration_s: float
    tests: list[TestOutcome] = Field(default_factory=list)
    collection_errors: list[str] = Field(default_factory=list)
    timed_out: bool = False
    output_tail: str = ""
    output_digest: str = ""
    started_at: datetime = Field(default_factory=utcnow)

    def ids(self, outcome: Outcome) -> list[str]:
        return [t.id for t in self.tests if t.outcome is outcome]

    @property
    def green(self) -> bool:
        return (
            self.exit_code == 0
            and not self.timed_out
            and not self.collection_errors
            and not self.ids(Outcome.FAILED)
            and not self.ids(Outcome.ERROR)
        )


class PhaseEvidence(BaseModel):
    phase: str
    attempt: int
    test_run: TestRun | None = None
    changed_files: list[str] = Field(default_factory=list)
    test_file_digests: dict[str, str] = Field(default_factory=dict)
    commit_sha: str | None = None
    gate_passed: bool = False
    gate_reason: str = ""
    recorded_at: datetime = Field(default_factory=utcnow)
