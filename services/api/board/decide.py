"""Approve or reject from the board: the same exactly-once path as the API, CLI and Discord.

Each decision runs the table's `approve`/`reject` through `Commands.run` with the form's own
idempotency key (a double submit replays the first answer) and the approval's version as shown
(`entity_match`): a stale page cannot decide what someone else decided meanwhile, and is told
who did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from shared.domain.commands import COMMANDS
from shared.domain.models import Approval
from shared.platform.errors import InvalidTransition, NotFound, PreconditionFailed
from shared.state import keys
from shared.workflow.decisions import DecisionNotDurable
from shared.workflow.executor import authorize

if TYPE_CHECKING:
    from services.api.board.session import BoardUser
    from services.api.commanding import Commands
    from shared.state.store import Store

__all__ = ["Decision", "Verdict", "decide"]

Action = Literal["approve", "reject"]
_LOST = (PreconditionFailed, InvalidTransition, NotFound)
_DONE = {"approve": "Approved", "reject": "Rejected"}
_NOT_CONFIRMED = (
    "Recorded as {done}, but the store has not yet confirmed it is on disk. Press again in a "
    "moment to confirm: the decision is applied once, whatever you press."
)


@dataclass(frozen=True)
class Decision:
    project_id: str
    approval_id: str
    action: Action
    version: int
    reason: str
    form_key: str


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str
    status_code: int = 200


async def decide(commands: Commands, store: Store, user: BoardUser, d: Decision) -> Verdict:
    """Decide once; a lost race answers 409 with who decided, and nothing changes."""
    authorize(COMMANDS[d.action], user.actor)  # Forbidden (403) for a role too low
    if d.action == "reject" and not d.reason.strip():
        return Verdict(False, "Say why you reject it: the reason goes to the record.", 422)
    key = keys.entity(d.project_id, "approval", d.approval_id)
    args = {"ids": [d.approval_id]} | ({"reason": d.reason.strip()} if d.action == "reject" else {})
    try:
        await commands.run(
            user.actor,
            d.action,
            args,
            project_id=d.project_id,
            idempotency_key=f"board:{d.form_key}",
            entity_match=(key, d.version),
        )
    except _LOST as exc:
        return await _already_decided(store, key, exc)
    except DecisionNotDurable:
        return Verdict(False, _NOT_CONFIRMED.format(done=_DONE[d.action].lower()), 503)
    return Verdict(True, f"{_DONE[d.action]} {d.approval_id}.")


async def _already_decided(store: Store, key: str, exc: Exception) -> Verdict:
    approval = await store.get(Approval, key)
    if approval is not None and approval.decided_by:
        return Verdict(
            False,
            f"Already decided by {approval.decided_by}: {approval.status.value}. "
            "Nothing changed; the page now shows the current state.",
            409,
        )
    return Verdict(False, f"{getattr(exc, 'message', str(exc))} Nothing changed.", 409)
