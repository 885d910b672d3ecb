"""What `/tdd status`, `/tdd overview` and `/tdd logs` show, as pure functions of the records.

Views are plain JSON-ready dicts, bounded in size whatever the cycle holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.evidence import Outcome, PhaseEvidence, TestRun
from shared.domain.models import Story
from shared.domain.phases import Phase
from shared.domain.tdd import TDDCycle

__all__ = [
    "cycle_view",
    "evidence_view",
    "is_tdd_event",
    "mentions",
    "overview_row",
    "phase_views",
]

TAIL_CHARS = 2_000
TESTS_SHOWN = 50
# Cycle events the orchestrator and the /tdd commands write with top-level ids.
_ID_FIELDS = ("story_id", "cycle_id")


def test_run_view(run: TestRun) -> dict[str, Any]:
    failing = run.ids(Outcome.FAILED) + run.ids(Outcome.ERROR)
    return {
        "exit_code": run.exit_code,
        "duration_s": round(run.duration_s, 3),
        "timed_out": run.timed_out,
        "passed": len(run.ids(Outcome.PASSED)),
        "failed": len(failing),
        "failing_ids": failing[:TESTS_SHOWN],
        "test_ids": [t.id for t in run.tests][:TESTS_SHOWN],
        "collection_errors": run.collection_errors[:10],
        "output_tail": run.output_tail[-TAIL_CHARS:],
    }


def evidence_view(evidence: PhaseEvidence) -> dict[str, Any]:
    return {
        "phase": evidence.phase,
        "attempt": evidence.attempt,
        "gate_passed": evidence.gate_passed,
        "gate_reason": evidence.gate_reason,
        "commit_sha": evidence.commit_sha,
        "changed_files": evidence.changed_files[:TESTS_SHOWN],
        "recorded_at": evidence.recorded_at.isoformat(),
        "test_run": test_run_view(evidence.test_run) if evidence.test_run else None,
    }


def phase_views(cycle: TDDCycle) -> dict[str, dict[str, Any]]:
    """Per phase reached: attempts recorded, passed or not, and the latest attempt in full."""
    views: dict[str, dict[str, Any]] = {}
    for phase in Phase:
        recorded = [e for e in cycle.evidence if e.phase == phase.value]
        skip = next((s for s in cycle.skips if s.phase == phase.value), None)
        if not recorded and skip is None:
            continue
        views[phase.value] = {
            "attempts": cycle.attempt(phase),
            "recorded": len(recorded),
            "passed": any(e.gate_passed for e in recorded),
            "skipped": skip.model_dump(mode="json") if skip else None,
            "latest": evidence_view(recorded[-1]) if recorded else None,
        }
    return views


def cycle_view(cycle: TDDCycle) -> dict[str, Any]:
    return {
        "cycle_id": cycle.id,
        "story_id": cycle.story_id,
        "phase": cycle.phase.value,
        "status": cycle.status.value,
        "attempt": cycle.attempt(),
        "attempts": dict(cycle.attempts),
        "run": cycle.run,
        "branch": cycle.branch,
        "head_sha": cycle.head_sha,
        "red_test_ids": cycle.red_test_ids[:TESTS_SHOWN],
        "hint": cycle.hint,
        "last_refusal": cycle.last_refusal,
        "paused_from": cycle.paused_from.value if cycle.paused_from else None,
        "test_runs": cycle.test_runs,
        "tokens": {"input": cycle.input_tokens, "output": cycle.output_tokens},
        "cost_usd": cycle.cost_usd,
        "started_at": cycle.created_at.isoformat(),
        "updated_at": cycle.updated_at.isoformat(),
        "completed_at": cycle.completed_at.isoformat() if cycle.completed_at else None,
        "phases": phase_views(cycle),
    }


def overview_row(story: Story, cycle: TDDCycle | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "story_id": story.id,
        "title": story.title,
        "story_status": story.status.value,
        "cycle_id": None,
        "phase": None,
        "status": None,
        "attempt": None,
        "attempts_total": 0,
        "test_runs": 0,
        "last_refusal": None,
        "updated_at": story.updated_at.isoformat(),
    }
    if cycle is not None:
        row |= {
            "cycle_id": cycle.id,
            "phase": cycle.phase.value,
            "status": cycle.status.value,
            "attempt": cycle.attempt(),
            "attempts_total": sum(cycle.attempts.values()),
            "test_runs": cycle.test_runs,
            "last_refusal": cycle.last_refusal,
            "updated_at": cycle.updated_at.isoformat(),
            "tokens": cycle.input_tokens + cycle.output_tokens,
            "cost_usd": round(cycle.cost_usd, 4),
            **_last_test_counts(cycle),
        }
    return row


def _last_test_counts(cycle: TDDCycle) -> dict[str, int | None]:
    runs = [e.test_run for e in cycle.evidence if e.test_run is not None]
    if not runs:
        return {"tests_passed": None, "tests_failed": None}
    last = runs[-1]
    failed = len(last.ids(Outcome.FAILED)) + len(last.ids(Outcome.ERROR))
    return {"tests_passed": len(last.ids(Outcome.PASSED)), "tests_failed": failed}


def mentions(payload: Mapping[str, Any], story_ids: set[str], cycle_ids: set[str]) -> bool:
    """Whether a timeline event's payload names one of the stories or cycles: at its top level
    (cycle events, tool calls) or in the command's args and result (the command envelope)."""
    wanted = story_ids | cycle_ids
    for part in (payload, payload.get("args"), payload.get("result")):
        if not isinstance(part, Mapping):
            continue
        named = {v for f in _ID_FIELDS if isinstance(v := part.get(f), str)}
        if named & wanted:
            return True
        listed = part.get("cycle_ids")
        if isinstance(listed, list) and wanted.intersection(map(str, listed)):
            return True
    return False


def is_tdd_event(command: str, payload: Mapping[str, Any], *, tools: bool) -> bool:
    """A `/tdd` command, a cycle event (it names its cycle), or, when asked, an agent's tool call."""
    if command == "tool":
        return tools
    return command.startswith("tdd ") or "cycle_id" in payload
