"""What an agent run cost, by the price table in settings (USD per million tokens)."""

from __future__ import annotations

from shared.agents.loop import AgentRun
from shared.domain.budgets import model_cost_usd
from shared.observability import metrics
from shared.platform.settings import AgentsSettings

__all__ = ["cost_of"]


def cost_of(run: AgentRun, agents: AgentsSettings) -> float:
    """The run's cost in USD, also counted in ``agent_cost_usd_total{agent_type}``."""
    cost = model_cost_usd(
        run.input_tokens,
        run.output_tokens,
        agents.price_input_per_mtok,
        agents.price_output_per_mtok,
    )
    metrics.AGENT_COST.labels(run.agent_type).inc(cost)
    return cost
