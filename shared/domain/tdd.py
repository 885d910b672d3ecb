"""The TDD cycle of one story: DESIGN → TEST_RED → CODE_GREEN → REFACTOR → COMMIT.

Pure data and transitions. The orchestrator advances a cycle only when the phase's gate passes
on evidence it recorded itself (see `gates.py`); three refused attempts of one phase block it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from shared.domain.evidence import PhaseEvidence
from shared.domain.models import Entity, utcnow
from shared.domain.phases import Phase

__all__ = [
    "FINISHED",
    "LIVE",
    "MAX_ATTEMPTS",
    "NEXT_PHASE",
    "CycleStatus",
    "PhaseSkip",
    "TDDCycle",
]

MAX_ATTEMPTS = 3
MAX_EVIDENCE = 30  # older evidence stays in the timeline

NEXT_PHASE: dict[Phase, Phase | None] = {
    Phase.DESIGN: Phase.TEST_RED,
    Phase.TEST_RED: Phase.CODE_GREEN,
    Phase.CODE_GREEN: Phase.REFACTOR,
    Phase.REFACTOR: Phase.COMMIT,
    Phase.COMMIT: None,
}


class CycleStatus(StrEnum):
    QUEUED = "queued"  # a job for the current phase is enqueued
    RUNNING = "running"  # a worker holds the lease and runs the phase
    WAITING = "waiting"  # waiting for a human (blocking mode) or for the sprint to resume
    PAUSED = "paused"
    BLOCKED = "blocked"
    DONE = "done"
    ABORTED = "aborted"


LIVE = frozenset({CycleStatus.QUEUED, CycleStatus.RUNNING, CycleStatus.WAITING})
FINISHED = frozenset({CycleStatus.DONE, CycleStatus.ABORTED})


class PhaseSkip(BaseModel):
    """A phase an approver moved past without its gate: who, why, when."""

    phase: str
    by: str
    justification: str
    at: datetime = Field(default_factory=utcnow)


class TDDCycle(Entity):
    project_id: str
    story_id: str
    phase: Phase = Phase.DESIGN
    status: CycleStatus = CycleStatus.QUEUED
    attempts: dict[str, int] = Field(default_factory=dict)
    run: int = Field(default=0, description="Bumped each time a job (re)takes the phase")
    fence: int = Field(default=0, description="Fencing token of the job allowed to write")
    branch: str = ""
    base_sha: str | None = None
    head_sha: str | None = None
    pending_sha: str | None = Field(
        default=None, description="Blocking mode: a passed result parked until approved"
    )
    approved_sha: str | None = Field(
        default=None, description="An approved result the next job applies to the branch"
    )
    red_test_ids: list[str] = Field(default_factory=list)
    test_file_digests: dict[str, str] = Field(default_factory=dict)
    design_note_path: str | None = None
    evidence: list[PhaseEvidence] = Field(default_factory=list)
    last_refusal: str | None = None
    hint: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    test_runs: int = 0
    completed_at: datetime | None = None
    paused_from: CycleStatus | None = Field(
        default=None,
        description="Status when paused; RUNNING means its job may still record (then QUEUED)",
    )
    skips: list[PhaseSkip] = Field(default_factory=list)
    budget_hold: str | None = Field(
        default=None, description="The budget scope (story, sprint, project) that paused it"
    )
    waiting_for: str | None = Field(
        default=None, description="With WAITING: 'sprint' (to run again) or 'approval' (a human)"
    )

    def attempt(self, phase: Phase | None = None) -> int:
        return self.attempts.get((phase or self.phase).value, 0)

    def with_evidence(self, item: PhaseEvidence) -> list[PhaseEvidence]:
        return [*self.evidence, item][-MAX_EVIDENCE:]
