"""What the interaction flows share: the store, the job queue, the catalog and the policy."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared.jobs.queue import enqueue_all
from shared.workflow.decisions import DecisionNotDurable
from shared.workflow.executor import execute

if TYPE_CHECKING:
    from arq.connections import ArqRedis

    from services.gateway.discord.catalog import Catalog
    from shared.state.store import Store
    from shared.workflow.context import CommandOutcome, CommandRequest, Limits

__all__ = ["Executor", "HandlerEnv"]

Executor = Callable[["Store", "CommandRequest", "Limits"], Awaitable["CommandOutcome"]]
_READ_LINKS = {
    "state": "state",
    "backlog view": "stories",
    "sprint status": "sprints/current",
}


@dataclass(frozen=True)
class HandlerEnv:
    store: Store
    queue: ArqRedis
    limits: Limits
    catalog: Catalog
    approver_must_differ: bool = False
    public_api_url: str | None = None
    execute: Executor = execute

    async def run(self, request: CommandRequest) -> CommandOutcome:
        """Execute, then enqueue the jobs the command asked for (after the commit)."""
        try:
            outcome = await self.execute(self.store, request, self.limits)
        except DecisionNotDurable as exc:  # stored, fsync unconfirmed: its work still starts
            await self._start(exc.outcome)
            raise
        await self._start(outcome)
        return outcome

    async def _start(self, outcome: CommandOutcome) -> None:
        if outcome.jobs and not outcome.replayed:
            await enqueue_all(self.queue, outcome.jobs)

    def link(self, outcome: CommandOutcome) -> str | None:
        """Where the full output lives on the API: a resource for reads, else the timeline."""
        if not self.public_api_url:
            return None
        base = self.public_api_url.rstrip("/") + "/api/v1/projects"
        if outcome.project_id is None:
            return base
        tail = _READ_LINKS.get(outcome.command, "timeline")
        return f"{base}/{outcome.project_id}/{tail}"
