"""Fault markers: a story title (an epic title for the backlog role) that asks the scripted
model to misbehave.

``[fault:NAME]`` applies to the marker's default roles; ``[fault:NAME@ROLE]`` to that role
only. A fault applies on the first attempt only: a retry (``attempt > 1``, or a ``refusal`` or
``hint`` in the task) behaves well. ``[fault:NAME!]`` applies on every attempt. See
``shared.fakes.scripted_model`` for what each fault does.
"""

from __future__ import annotations

import re

from shared.agents.roles import RoleName
from shared.agents.task import AgentTask

__all__ = ["FAULT_ROLES", "active_faults"]

_ALL = frozenset(RoleName)
FAULT_ROLES: dict[str, frozenset[RoleName]] = {
    "code-writes-test": frozenset({RoleName.CODE}),
    "red-import-error": frozenset({RoleName.QA}),
    "green-lie": frozenset({RoleName.CODE}),
    "refactor-breaks": frozenset({RoleName.REFACTOR}),
    "endless": _ALL,
    "traversal": _ALL,
}
_MARKER = re.compile(r"\[fault:([a-z-]+)(?:@([a-z]+))?(!?)\]")


def _retry(task: AgentTask) -> bool:
    return task.attempt > 1 or bool(task.refusal) or bool(task.hint)


def active_faults(task: AgentTask) -> frozenset[str]:
    """The faults the task's markers switch on for this role and attempt."""
    text = task.story.title if task.story else task.epic_title or ""
    active = set()
    for name, role, sticky in _MARKER.findall(text):
        roles = frozenset({role}) if role else FAULT_ROLES.get(name, frozenset())
        if name in FAULT_ROLES and task.role in roles and (sticky or not _retry(task)):
            active.add(name)
    return frozenset(active)
