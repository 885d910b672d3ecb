"""Run one command for a route and shape the HTTP response (status, ETag, replay flag)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi.responses import JSONResponse

from shared.workflow.context import CommandRequest
from shared.workflow.executor import execute

if TYPE_CHECKING:
    from shared.domain.args import CommandArgs
    from shared.state.store import Store
    from shared.workflow.context import Actor, Limits

__all__ = ["etag", "run_command"]


def etag(version: int) -> str:
    return f'"{version}"'


async def run_command(
    store: Store,
    limits: Limits,
    actor: Actor,
    command: str,
    args: CommandArgs | dict[str, Any],
    *,
    project_id: str | None = None,
    idempotency_key: str | None = None,
    if_match: int | None = None,
    entity_match: tuple[str, int] | None = None,
    location: str | None = None,
) -> JSONResponse:
    request = CommandRequest(
        command, args, actor, project_id, idempotency_key, if_match, entity_match
    )
    outcome = await execute(store, request, limits)
    headers = {"Idempotent-Replayed": "true" if outcome.replayed else "false"}
    if outcome.project_version is not None:
        headers["ETag"] = etag(outcome.project_version)
    if location and outcome.status_code == 201:
        headers["Location"] = location
    return JSONResponse(outcome.body(), status_code=outcome.status_code, headers=headers)
