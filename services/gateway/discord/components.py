"""Decision buttons and modals, and the custom_id that carries a decision between pods.

A custom_id is `awf:<action>:<project>:<entity id>:<version>`: everything a pod needs to run
the decision with the entity's version check, so the first click decides and later ones
(from any pod) learn who already did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from services.gateway.discord import wire
from services.gateway.discord.wire import Json

if TYPE_CHECKING:
    from shared.domain.models import Approval, Sprint

__all__ = [
    "MODAL_FIELD",
    "Action",
    "Decision",
    "approval_row",
    "blocked_row",
    "decision_modal",
    "modal_value",
    "sprint_row",
]

Action = Literal["approve", "reject", "fix", "skip", "pause", "resume"]
_ACTIONS: frozenset[str] = frozenset({"approve", "reject", "fix", "skip", "pause", "resume"})
_PREFIX = "awf"
MODAL_FIELD = "text"
MODAL_ACTIONS: dict[str, tuple[str, str]] = {
    "reject": ("Reject: why?", "Reason, for the record"),
    "fix": ("Suggest a fix", "A hint for the agent"),
}


@dataclass(frozen=True)
class Decision:
    action: Action
    project_id: str
    entity_id: str
    version: int

    @property
    def custom_id(self) -> str:
        parts = (_PREFIX, self.action, self.project_id, self.entity_id, str(self.version))
        return ":".join(parts)

    @property
    def entity_kind(self) -> Literal["approval", "sprint"]:
        return "sprint" if self.action in ("pause", "resume") else "approval"

    @classmethod
    def parse(cls, custom_id: str) -> Decision | None:
        parts = custom_id.split(":")
        if len(parts) != 5 or parts[0] != _PREFIX or parts[1] not in _ACTIONS:
            return None
        if not parts[4].isdigit():
            return None
        action: Action = parts[1]  # type: ignore[assignment]
        return cls(action, parts[2], parts[3], int(parts[4]))


def _button(label: str, style: int, decision: Decision) -> Json:
    return {"type": wire.BUTTON, "style": style, "label": label, "custom_id": decision.custom_id}


def _row(*buttons: Json) -> Json:
    return {"type": wire.ACTION_ROW, "components": list(buttons)}


def approval_row(project_id: str, approval: Approval) -> Json:
    """Approve / Reject (Reject asks for a reason in a modal)."""

    def decide(action: Action) -> Decision:
        return Decision(action, project_id, approval.id, approval.version)

    return _row(
        _button("Approve", wire.SUCCESS, decide("approve")),
        _button("Reject", wire.DANGER, decide("reject")),
    )


def blocked_row(project_id: str, approval: Approval) -> Json:
    """Suggest fix (a modal asks for the hint) / Skip task."""

    def decide(action: Action) -> Decision:
        return Decision(action, project_id, approval.id, approval.version)

    return _row(
        _button("Suggest fix", wire.PRIMARY, decide("fix")),
        _button("Skip task", wire.SECONDARY, decide("skip")),
    )


def sprint_row(project_id: str, sprint: Sprint) -> Json | None:
    """Pause for a running sprint, Resume for a paused one."""
    action: Action | None = {"active": "pause", "paused": "resume"}.get(sprint.status.value)  # type: ignore[assignment]
    if action is None:
        return None
    decision = Decision(action, project_id, sprint.id, sprint.version)
    return _row(_button(action.title(), wire.SECONDARY, decision))


def decision_modal(decision: Decision) -> Json:
    title, label = MODAL_ACTIONS[decision.action]
    text_input = {
        "type": wire.TEXT_INPUT,
        "custom_id": MODAL_FIELD,
        "style": wire.PARAGRAPH,
        "label": label,
        "required": decision.action == "fix",
        "max_length": 2000,
    }
    return {"custom_id": decision.custom_id, "title": title, "components": [_row(text_input)]}


def modal_value(data: Json) -> str:
    """The text the user typed into the decision modal."""
    for row in data.get("components") or []:
        for item in row.get("components") or []:
            if item.get("custom_id") == MODAL_FIELD:
                return str(item.get("value") or "")
    return ""
