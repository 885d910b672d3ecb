"""Job names: one per worker function. The worker registers exactly these."""

from __future__ import annotations

__all__ = [
    "ALL_JOBS",
    "MERGE_STORY",
    "PROPOSE_BACKLOG",
    "REVIEW_SPRINT",
    "RUN_PHASE",
    "SCHEDULE_SPRINT",
]

SCHEDULE_SPRINT = "schedule_sprint"
RUN_PHASE = "run_phase"
PROPOSE_BACKLOG = "propose_backlog"
REVIEW_SPRINT = "review_sprint"
MERGE_STORY = "merge_story"

ALL_JOBS = frozenset({SCHEDULE_SPRINT, RUN_PHASE, PROPOSE_BACKLOG, REVIEW_SPRINT, MERGE_STORY})
