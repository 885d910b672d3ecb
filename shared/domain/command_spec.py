"""What one entry of the command table says: name, arguments, states, role, help."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal

from shared.domain import args as a
from shared.domain.models import ScrumState as S

__all__ = ["ALL_STATES", "Command", "Role", "Scope", "same"]

Scope = Literal["project", "global"]
ALL_STATES = frozenset(S)


class Role(IntEnum):
    """Ordered: a higher role may do everything a lower one may."""

    VIEWER = 1
    MEMBER = 2
    APPROVER = 3
    ADMIN = 4


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    args: type[a.CommandArgs]
    transitions: Mapping[S, S] = field(default_factory=dict)
    scope: Scope = "project"
    role: Role = Role.MEMBER
    mutating: bool = True
    hints: Mapping[S, str] = field(default_factory=dict)

    @property
    def allowed_from(self) -> frozenset[S]:
        return frozenset(self.transitions)

    @property
    def path(self) -> tuple[str, ...]:
        """`"backlog add_story"` -> `("backlog", "add_story")`: group and subcommand."""
        return tuple(self.name.split(" "))

    def result_state(self, state: S) -> S:
        return self.transitions[state]


def same(states: frozenset[S]) -> dict[S, S]:
    """Allowed in `states`, staying there."""
    return {s: s for s in states}
