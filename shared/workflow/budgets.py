"""Charge each phase's tokens and cost to its story, sprint and project, and hold the work
(cycle paused, a human asked) when a cap is crossed. Caps are soft: a phase already running
when a cap is crossed still records its result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.domain.budgets import BudgetCaps, BudgetScope, Usage, crossed
from shared.domain.models import ApprovalKind, Project
from shared.domain.tdd import CycleStatus, TDDCycle
from shared.state import keys, timeline
from shared.state.timeline import TimelineEvent
from shared.workflow import system

if TYPE_CHECKING:
    from shared.state.store import Transaction

__all__ = ["Hold", "charge_agent_in", "charge_in", "hold_in", "usage_of", "waive_in"]

Hold = tuple[BudgetScope, str]


async def charge_in(
    tx: Transaction, cycle: TDDCycle, cost_delta: float, caps: BudgetCaps | None
) -> Hold | None:
    """Add the phase's cost to the sprint and project totals; the cap it crossed, if any."""
    pid, sprint_id = cycle.project_id, await _sprint_id(tx, cycle.project_id)
    raw = await _usage(tx.reader, pid)  # unwatched: caps are soft
    fields = ["project:cost", *([f"sprint:{sprint_id}:cost"] if sprint_id else [])]
    for field in fields:
        _increment(tx, keys.usage(pid), field, cost_delta)
    if caps is None or not caps.any:
        return None
    usage = Usage(
        story_tokens=cycle.input_tokens + cycle.output_tokens,
        story_cost_usd=cycle.cost_usd,
        sprint_cost_usd=float(raw.get(f"sprint:{sprint_id}:cost", 0)) + cost_delta,
        project_cost_usd=float(raw.get("project:cost", 0)) + cost_delta,
    )
    return crossed(usage, caps, _waived(raw, cycle.story_id, sprint_id))


def charge_agent_in(
    tx: Transaction, project_id: str, agent_type: str, cost: float, sprint_id: str | None = None
) -> None:
    """Agent work that belongs to no story (the backlog agent's proposals, the data agent's
    review): charged to the project, and to ``sprint_id`` when it is that sprint's work. A
    phase's next charge checks the caps against these totals too."""
    fields = ["project:cost", f"agent:{agent_type}:cost"]
    fields += [f"sprint:{sprint_id}:cost"] if sprint_id else []
    for field in fields:
        _increment(tx, keys.usage(project_id), field, cost)


async def hold_in(tx: Transaction, moved: TDDCycle, hold: Hold) -> None:
    """Park the cycle (paused before its next run) and ask a human whether to go on."""
    scope, reason = hold
    pid = moved.project_id
    held = moved.touched(status=CycleStatus.PAUSED, paused_from=CycleStatus.QUEUED)
    tx.put(keys.entity(pid, "cycle", moved.id), held.touched(budget_hold=scope.value))
    summary = (
        f"{reason} Story {moved.story_id} is paused before {moved.phase.value}. Approve to let "
        f"the work go on past this {scope.value} cap; reject to leave it paused."
    )
    approval = await system.request_approval_in(
        tx, pid, ApprovalKind.BUDGET, moved.id, summary[:2_000]
    )
    payload = {"cycle_id": moved.id, "story_id": moved.story_id, "scope": scope.value}
    event = TimelineEvent(
        actor="orchestrator",
        command="budget exceeded",
        payload={**payload, "reason": reason, "approval_id": approval.id},
    )
    timeline.append(tx, pid, event)


async def waive_in(tx: Transaction, cycle: TDDCycle) -> None:
    """A human approved going past the cap that held `cycle`: that scope is not checked again."""
    scope = BudgetScope(cycle.budget_hold or BudgetScope.STORY.value)
    target = {
        BudgetScope.STORY: f"story:{cycle.story_id}",
        BudgetScope.SPRINT: f"sprint:{await _sprint_id(tx, cycle.project_id)}",
        BudgetScope.PROJECT: "project",
    }[scope]
    tx.call(lambda p: p.hset(keys.usage(cycle.project_id), f"waive:{target}", "1"))


def _increment(tx: Transaction, key: str, field: str, amount: float) -> None:
    tx.call(lambda p: p.hincrbyfloat(key, field, amount))


async def _usage(reader: Any, project_id: str) -> dict[str, str]:
    raw: dict[str, str] = await reader.hgetall(keys.usage(project_id))
    return raw


async def usage_of(reader: Any, project_id: str, sprint_id: str | None) -> dict[str, float]:
    """Cost charged so far to the project and to `sprint_id` (for status views)."""
    raw = await _usage(reader, project_id)
    sprint = float(raw.get(f"sprint:{sprint_id}:cost", 0)) if sprint_id else 0.0
    return {
        "project_cost_usd": round(float(raw.get("project:cost", 0)), 4),
        "sprint_cost_usd": round(sprint, 4),
    }


def _waived(raw: dict[str, str], story_id: str, sprint_id: str | None) -> frozenset[BudgetScope]:
    flags = {
        BudgetScope.STORY: f"waive:story:{story_id}",
        BudgetScope.SPRINT: f"waive:sprint:{sprint_id}",
        BudgetScope.PROJECT: "waive:project",
    }
    return frozenset(scope for scope, field in flags.items() if raw.get(field))


async def _sprint_id(tx: Transaction, project_id: str) -> str | None:
    raw = await tx.reader.get(keys.project(project_id))
    return Project.model_validate_json(raw).active_sprint_id if raw else None
