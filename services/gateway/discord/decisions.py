"""Buttons and modals: one decision per (entity, version), whoever clicks first, on any pod.

The executor's entity version check makes the decision exactly once; the decider is recorded
so that a later click (a double click, a second approver, a stale message) is told who it was.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from services.gateway.discord import wire
from services.gateway.discord.components import (
    MODAL_ACTIONS,
    Decision,
    decision_modal,
    modal_value,
)
from services.gateway.discord.guards import check_not_requester
from services.gateway.discord.interaction import Answer, refusal
from services.gateway.discord.panels import sprint_rows
from services.gateway.discord.render import error_text, mention
from shared.domain.commands import COMMANDS
from shared.domain.models import Approval, Project
from shared.platform.errors import InvalidTransition, NotFound, PreconditionFailed
from shared.state import keys
from shared.workflow.context import CommandRequest
from shared.workflow.executor import authorize

if TYPE_CHECKING:
    from services.gateway.discord.env import HandlerEnv
    from services.gateway.discord.interaction import Interaction
    from services.gateway.discord.wire import Json
    from shared.workflow.context import Actor

__all__ = ["click", "submit"]

_COMMAND = {
    "approve": "approve",
    "reject": "reject",
    "fix": "suggest_fix",
    "skip": "skip_task",
    "pause": "sprint pause",
    "resume": "sprint resume",
}
_DONE = {
    "approve": "✅ Approved",
    "reject": "❌ Rejected",
    "fix": "🛠️ Fix suggested",
    "skip": "⏭️ Task skipped",
    "pause": "⏸️ Sprint paused",
    "resume": "▶️ Sprint resumed",
}
_DECISION_TTL_S = 7 * 24 * 3600
_LOST = (PreconditionFailed, InvalidTransition, NotFound)


async def click(env: HandlerEnv, interaction: Interaction, actor: Actor) -> Answer:
    decision = Decision.parse(str(interaction.data.get("custom_id", "")))
    if decision is None:
        return refusal("This button is not one of ours, or it is outdated. Try /state.")
    await _may_decide(env, decision, actor)
    if decision.action in MODAL_ACTIONS:
        return Answer(wire.MODAL, decision_modal(decision))
    return await _decide(env, interaction, actor, decision, "")


async def submit(env: HandlerEnv, interaction: Interaction, actor: Actor) -> Answer:
    decision = Decision.parse(str(interaction.data.get("custom_id", "")))
    if decision is None or decision.action not in MODAL_ACTIONS:
        return refusal("This form is not one of ours, or it is outdated. Try /state.")
    await _may_decide(env, decision, actor)
    return await _decide(env, interaction, actor, decision, modal_value(interaction.data))


async def _may_decide(env: HandlerEnv, decision: Decision, actor: Actor) -> None:
    authorize(COMMANDS[_COMMAND[decision.action]], actor)
    if env.approver_must_differ and decision.entity_kind == "approval":
        await check_not_requester(env.store, decision.project_id, [decision.entity_id], actor.name)


async def _decide(
    env: HandlerEnv, interaction: Interaction, actor: Actor, decision: Decision, text: str
) -> Answer:
    key = keys.entity(decision.project_id, "approval", decision.entity_id)
    entity_match = (key, decision.version) if decision.entity_kind == "approval" else None
    request = CommandRequest(
        _COMMAND[decision.action],
        _args(decision, text),
        actor,
        decision.project_id,
        f"discord:{interaction.id}",
        entity_match=entity_match,
    )
    try:
        await _check_sprint(env, decision)
        await env.run(request)
    except _LOST as exc:
        return await _already_decided(env, decision, exc)
    await _record(env, decision, actor.name)
    return await _decided(env, interaction, actor, decision, text)


def _args(decision: Decision, text: str) -> dict[str, Any]:
    if decision.action == "approve":
        return {"ids": [decision.entity_id]}
    if decision.action == "reject":
        return {"ids": [decision.entity_id], "reason": text}
    if decision.action == "fix":
        return {"description": text}
    return {}


async def _check_sprint(env: HandlerEnv, decision: Decision) -> None:
    """Pause/Resume act on the current sprint only: a button of an old sprint does nothing."""
    if decision.entity_kind != "sprint":
        return
    project = await env.store.get(Project, keys.project(decision.project_id))
    if project is None or project.active_sprint_id != decision.entity_id:
        raise NotFound(f"Sprint {decision.entity_id} is not the current sprint any more.")


def _decision_key(decision: Decision) -> str:
    subject = f"{decision.entity_kind}:{decision.entity_id}:{decision.version}"
    return keys.discord_decision(decision.project_id, subject)


async def _record(env: HandlerEnv, decision: Decision, actor_name: str) -> None:
    record = json.dumps({"actor": actor_name, "action": decision.action})
    await env.store.redis.set(_decision_key(decision), record, nx=True, ex=_DECISION_TTL_S)


async def _already_decided(env: HandlerEnv, decision: Decision, exc: Exception) -> Answer:
    raw = await env.store.redis.get(_decision_key(decision))
    if raw is not None:
        record = json.loads(raw)
        done = _DONE[record["action"]].split(" ", 1)[1].lower()
        return refusal(f"Already decided by {mention(record['actor'])}: {done}. Nothing changed.")
    if decision.entity_kind == "approval":
        key = keys.entity(decision.project_id, "approval", decision.entity_id)
        approval = await env.store.get(Approval, key)
        if approval is not None and approval.decided_by:
            who = mention(approval.decided_by)
            return refusal(f"Already decided by {who}: {approval.status.value}. Nothing changed.")
    return refusal(error_text(exc))


async def _decided(
    env: HandlerEnv, interaction: Interaction, actor: Actor, decision: Decision, text: str
) -> Answer:
    line = f"{_DONE[decision.action]} by {mention(actor.name)}"
    if text:
        line += f": {wire.fit(text, 500)}"
    if interaction.type != wire.COMPONENT:
        return Answer(wire.MESSAGE, {"content": line, "allowed_mentions": {"parse": []}})
    rows = [r for r in interaction.message.get("components") or [] if not _decides(r, decision)]
    if decision.entity_kind == "sprint":
        fresh = await sprint_rows(env.store, decision.project_id)
        rows = [r for r in rows if not _is_sprint_row(r)] + fresh
    content = "\n".join(p for p in (interaction.message.get("content"), line) if p)
    data = {
        "content": wire.fit(content, wire.MAX_CONTENT),
        "components": rows,
        "allowed_mentions": {"parse": []},
    }
    return Answer(wire.UPDATE_MESSAGE, data)


def _row_decisions(row: Json) -> list[Decision]:
    found = (Decision.parse(str(c.get("custom_id", ""))) for c in row.get("components") or [])
    return [d for d in found if d is not None]


def _decides(row: Json, decision: Decision) -> bool:
    """The row holds buttons for the same entity (Approve and Reject of one approval)."""
    return any(d.entity_id == decision.entity_id for d in _row_decisions(row))


def _is_sprint_row(row: Json) -> bool:
    return any(d.entity_kind == "sprint" for d in _row_decisions(row))
