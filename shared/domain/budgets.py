"""Token and cost budgets per story, sprint and project: caps from settings, usage from the
API's own `usage` numbers, and the rule that says which cap a phase crossed."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["BudgetCaps", "BudgetScope", "Usage", "crossed", "model_cost_usd"]


class BudgetScope(StrEnum):
    STORY = "story"
    SPRINT = "sprint"
    PROJECT = "project"


@dataclass(frozen=True)
class BudgetCaps:
    """None means no cap."""

    story_tokens: int | None = None
    story_cost_usd: float | None = None
    sprint_cost_usd: float | None = None
    project_cost_usd: float | None = None

    @property
    def any(self) -> bool:
        return any(
            c is not None
            for c in (
                self.story_tokens,
                self.story_cost_usd,
                self.sprint_cost_usd,
                self.project_cost_usd,
            )
        )


@dataclass(frozen=True)
class Usage:
    story_tokens: int = 0
    story_cost_usd: float = 0.0
    sprint_cost_usd: float = 0.0
    project_cost_usd: float = 0.0


def crossed(
    usage: Usage, caps: BudgetCaps, waived: frozenset[BudgetScope] = frozenset()
) -> tuple[BudgetScope, str] | None:
    """The first cap `usage` is over (story, then sprint, then project), with a sentence that
    names it; scopes a human already waived are not checked."""
    checks = (
        (BudgetScope.STORY, usage.story_tokens, caps.story_tokens, "tokens", "{:,.0f}"),
        (BudgetScope.STORY, usage.story_cost_usd, caps.story_cost_usd, "cost", "${:,.2f}"),
        (BudgetScope.SPRINT, usage.sprint_cost_usd, caps.sprint_cost_usd, "cost", "${:,.2f}"),
        (BudgetScope.PROJECT, usage.project_cost_usd, caps.project_cost_usd, "cost", "${:,.2f}"),
    )
    for scope, used, cap, what, fmt in checks:
        if cap is not None and scope not in waived and used > cap:
            return (
                scope,
                f"The {scope.value} {what} {fmt.format(used)} is over its cap {fmt.format(cap)}.",
            )
    return None


def model_cost_usd(
    input_tokens: int, output_tokens: int, price_in_per_mtok: float, price_out_per_mtok: float
) -> float:
    """What the tokens cost at the price table's USD per million tokens."""
    return (input_tokens * price_in_per_mtok + output_tokens * price_out_per_mtok) / 1_000_000
