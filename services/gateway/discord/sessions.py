"""IDENTIFYs hikari sends by itself within a term, counted against the day's budget.

The duty reserves one IDENTIFY before it connects. When Discord ends the session (op 9 with
``false``, or a close code that drops it), hikari opens a new one on its own: an IDENTIFY no
guard saw. Each READY after the term's first is such an IDENTIFY, so it is counted then (hikari
has no hook before it), and the day's counter keeps matching what Discord counts. A RESUME
continues the session: no READY, nothing counted. Past our budget (far below Discord's 1,000)
it is only reported; the next term's start is refused.
"""

from __future__ import annotations

import asyncio

import structlog

from shared.state.gateway_guards import IdentifyBudgetExhausted, IdentifyGuard

__all__ = ["SessionCounter"]

log = structlog.get_logger("gateway.discord.sessions")


class SessionCounter:
    def __init__(self, guard: IdentifyGuard) -> None:
        self._guard = guard
        self._sessions = 0
        self._counting: set[asyncio.Task[None]] = set()

    def on_ready(self) -> None:
        """A new session: the first is the one the duty reserved, the others hikari's own."""
        self._sessions += 1
        if self._sessions > 1:
            task = asyncio.create_task(self._count(), name="count-identify")
            self._counting.add(task)
            task.add_done_callback(self._counting.discard)

    async def _count(self) -> None:
        try:
            ticket = await self._guard.reserve()
        except IdentifyBudgetExhausted as exc:
            log.critical("identify_over_budget", sessions=self._sessions, error=str(exc))
            return
        log.warning("new_session_within_term", sessions=self._sessions, used=ticket.used_today)
