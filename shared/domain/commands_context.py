"""The `/context` entries of the command table: what agents see of the repository.

Each agent phase gets the files relevant to its story within a token budget (whole, or
summarised when large); these commands show the last context per story and the per-role
memory notes, and manage the summary cache. Allowed in every state: they never move the
workflow, though the two cache commands are recorded on the timeline.
"""

from __future__ import annotations

from shared.domain import args as a
from shared.domain import args_context as c
from shared.domain.command_spec import ALL_STATES, Command, Role, same

__all__ = ["CONTEXT_TABLE"]

CONTEXT_TABLE: tuple[Command, ...] = (
    Command(
        "context status",
        "Show what agents were shown of the repository: the latest contexts per story (files, "
        "whole or summarised, tokens against the budget) and the summary cache.",
        c.ContextStatusArgs,
        transitions=same(ALL_STATES),
        role=Role.VIEWER,
        mutating=False,
    ),
    Command(
        "context optimize",
        "Drop cached file summaries whose files changed or vanished since the last scan, and "
        "report what it saved.",
        a.NoArgs,
        transitions=same(ALL_STATES),
    ),
    Command(
        "context clear_cache",
        "Drop every cached file summary; the next agent phase summarises afresh.",
        a.NoArgs,
        transitions=same(ALL_STATES),
    ),
    Command(
        "context memory",
        "Show the notes kept for each agent (refusal reasons, design decisions), newest first.",
        c.ContextMemoryArgs,
        transitions=same(ALL_STATES),
        role=Role.VIEWER,
        mutating=False,
    ),
)
