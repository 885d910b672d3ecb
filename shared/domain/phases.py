"""The phases of a story's TDD cycle, in order."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Phase"]


class Phase(StrEnum):
    DESIGN = "DESIGN"
    TEST_RED = "TEST_RED"
    CODE_GREEN = "CODE_GREEN"
    REFACTOR = "REFACTOR"
    COMMIT = "COMMIT"
