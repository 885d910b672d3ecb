"""One change of a project document as a global command: idempotent, versioned, on the timeline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from shared.domain.models import Project
from shared.state import idempotency, keys, timeline
from shared.state.timeline import TimelineEvent
from shared.workflow.context import CommandOutcome

if TYPE_CHECKING:
    from shared.domain.args import CommandArgs
    from shared.state.store import Store, Transaction
    from shared.workflow.context import CommandRequest

__all__ = ["Change", "change_project", "project_outcome"]

Change = Callable[["Transaction", Project | None], Awaitable[tuple[Project, dict[str, Any]]]]


async def change_project(
    store: Store,
    name: str,
    project_id: str,
    args: CommandArgs,
    request: CommandRequest,
    change: Change,
) -> CommandOutcome:
    fingerprint = idempotency.fingerprint(project_id, name, args.model_dump(mode="json"))

    async def body(tx: Transaction) -> CommandOutcome:
        current = await tx.get(Project, keys.project(project_id))
        if request.idempotency_key:
            stored = await idempotency.recall(tx, project_id, request.idempotency_key, fingerprint)
            if stored is not None:
                return _replayed(stored)
        updated, result = await change(tx, current)
        saved = tx.put(keys.project(project_id), updated)
        timeline.append(
            tx,
            project_id,
            TimelineEvent(
                actor=request.actor.name,
                command=name,
                from_state=current.state.value if current else None,
                to_state=saved.state.value,
                version=saved.version,
                payload=result,
            ),
        )
        outcome = project_outcome(
            name,
            result,
            201 if result.get("created") else 200,
            project_id=project_id,
            version=saved.version,
            state=saved.state.value,
        )
        if request.idempotency_key:
            idempotency.remember(
                tx,
                project_id,
                request.idempotency_key,
                idempotency.StoredResponse(
                    fingerprint=fingerprint, status_code=outcome.status_code, body=outcome.body()
                ),
            )
        return outcome

    return await store.atomic(body)


def project_outcome(
    name: str,
    result: dict[str, Any],
    status: int = 200,
    *,
    replayed: bool = False,
    project_id: str | None = None,
    version: int | None = None,
    state: str | None = None,
) -> CommandOutcome:
    return CommandOutcome(name, project_id, state, state, version, result, status, replayed)


def _replayed(stored: idempotency.StoredResponse) -> CommandOutcome:
    body = stored.body
    return CommandOutcome(
        body["command"],
        body["project_id"],
        body["from_state"],
        body["to_state"],
        body["project_version"],
        body["result"],
        stored.status_code,
        replayed=True,
    )
