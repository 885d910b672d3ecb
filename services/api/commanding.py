"""Run one command for a route, enqueue the jobs it asked for, and shape the HTTP response."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi.responses import JSONResponse

from shared.jobs.queue import enqueue_all
from shared.workflow.context import CommandRequest
from shared.workflow.decisions import DecisionNotDurable
from shared.workflow.executor import execute

if TYPE_CHECKING:
    from arq.connections import ArqRedis

    from shared.domain.args import CommandArgs
    from shared.state.store import Store
    from shared.workflow.context import Actor, CommandOutcome, Limits

__all__ = ["Commands", "etag"]


def etag(version: int) -> str:
    return f'"{version}"'


@dataclass(frozen=True)
class Commands:
    store: Store
    limits: Limits
    queue: ArqRedis

    async def run(
        self,
        actor: Actor,
        command: str,
        args: CommandArgs | dict[str, Any],
        *,
        project_id: str | None = None,
        idempotency_key: str | None = None,
        if_match: int | None = None,
        entity_match: tuple[str, int] | None = None,
    ) -> JSONResponse:
        request = CommandRequest(
            command, args, actor, project_id, idempotency_key, if_match, entity_match
        )
        try:
            outcome = await execute(self.store, request, self.limits)
        except DecisionNotDurable as exc:  # stored, fsync unconfirmed (503): its work still starts
            await self._start(exc.outcome)
            raise
        await self._start(outcome)
        headers = {"Idempotent-Replayed": "true" if outcome.replayed else "false"}
        if outcome.project_version is not None:
            headers["ETag"] = etag(outcome.project_version)
        return JSONResponse(outcome.body(), status_code=outcome.status_code, headers=headers)

    async def _start(self, outcome: CommandOutcome) -> None:
        if outcome.jobs and not outcome.replayed:
            # after the commit: a failed request never starts work
            await enqueue_all(self.queue, outcome.jobs)
