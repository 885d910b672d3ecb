"""The leader's deadline watcher: reminds of pending approvals and applies the expiry action.

Every ``sweep_s`` it reads the pending approvals of each bound or active project. A step due
now (a reminder, or the expiry) is claimed with SET NX, so it fires once across pods and
leaders; the winner acts and appends an "approval reminder" / "approval expired" event to the
timeline, which the notifier posts. Expiry runs the same command a human would (reject, skip
task) as ``system:deadline``, guarded by the approval's version: a human who decided in the
meantime wins.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import structlog
from redis.exceptions import RedisError

from shared.domain.commands import Role
from shared.domain.deadlines import EXPIRE, DeadlinePolicy, deadline_of, due_mark, expiry_action
from shared.domain.models import Approval, ApprovalKind, Project, utcnow
from shared.platform.errors import AppError
from shared.state import keys, timeline
from shared.state.timeline import TimelineEvent
from shared.workflow.context import Actor, CommandRequest, Limits
from shared.workflow.decisions import DecisionNotDurable
from shared.workflow.executor import execute

if TYPE_CHECKING:
    from datetime import datetime

    from services.gateway.term import Term
    from shared.jobs.specs import JobSpec
    from shared.state.store import Store

__all__ = ["DEADLINE_ACTOR", "DeadlineWatcher", "Enqueue"]

log = structlog.get_logger("gateway.deadlines")

DEADLINE_ACTOR = Actor("system:deadline", Role.ADMIN)
Enqueue = Callable[[Sequence["JobSpec"]], Awaitable[object]]
_MARK_TTL_S = 30 * 24 * 3600


class DeadlineWatcher:
    def __init__(
        self, store: Store, policy: DeadlinePolicy, enqueue: Enqueue, *, owner: str, sweep_s: float
    ) -> None:
        self._store = store
        self._policy = policy
        self._enqueue = enqueue
        self._owner = owner
        self._sweep_s = sweep_s

    async def run(self, term: Term) -> None:
        while True:
            if term.holds():
                try:
                    await self.sweep()
                except RedisError as exc:
                    log.warning("deadline_sweep_failed", error=repr(exc))
                except Exception:  # a bad document must not stop every later deadline
                    log.exception("deadline_sweep_crashed")
            await asyncio.sleep(self._sweep_s)

    async def sweep(self, now: datetime | None = None) -> int:
        """Fire what is due; the number of reminders and expiries this instance fired."""
        now = now or utcnow()
        redis = self._store.redis
        projects = await redis.sunion([keys.DISCORD_BOUND_PROJECTS, keys.ACTIVE_PROJECTS])  # type: ignore[misc]
        fired = 0
        for project_id in sorted(projects):
            for approval in await self._pending(project_id):
                mark = due_mark(approval, self._policy, now)
                if mark is not None and await self._claim(project_id, approval, mark):
                    await self._fire(project_id, approval, mark)
                    fired += 1
        return fired

    async def _pending(self, project_id: str) -> list[Approval]:
        ids = await self._store.redis.zrange(keys.index(project_id, "approvals:pending"), 0, -1)
        found = await self._store.get_many(
            Approval, [keys.entity(project_id, "approval", i) for i in ids]
        )
        return [a for a in found if a is not None]

    async def _claim(self, project_id: str, approval: Approval, mark: str) -> bool:
        key = keys.approval_mark(project_id, approval.id, mark)
        return bool(await self._store.redis.set(key, self._owner, nx=True, ex=_MARK_TTL_S))

    async def _fire(self, project_id: str, approval: Approval, mark: str) -> None:
        deadline = deadline_of(approval, self._policy)
        payload: dict[str, Any] = {
            "approval_id": approval.id,
            "kind": approval.kind.value,
            "deadline_ts": deadline.timestamp() if deadline else None,
            "mark": mark,
        }
        if approval.kind is ApprovalKind.BLOCKED_TASK:
            payload["story_id"] = approval.subject_id  # posted in the story's thread
        command = "approval reminder"
        if mark == EXPIRE:
            command = "approval expired"
            payload["action"], payload["outcome"] = await self._expire(project_id, approval)
        event = TimelineEvent(actor=DEADLINE_ACTOR.name, command=command, payload=payload)
        await timeline.publish(self._store.redis, project_id, event)
        log.info("approval_deadline", project_id=project_id, approval_id=approval.id, mark=mark)

    async def _expire(self, project_id: str, approval: Approval) -> tuple[str, str]:
        action = expiry_action(approval, self._policy)
        request = await self._request(project_id, approval, action)
        if request is None:
            return action, "nothing to do"
        try:
            outcome = await execute(self._store, request, Limits())
        except DecisionNotDurable as exc:  # applied; only its fsync is unconfirmed
            outcome = exc.outcome
        except AppError as exc:
            return action, f"not applied: {exc.message}"
        if outcome.jobs and not outcome.replayed:
            await self._enqueue(outcome.jobs)
        return action, "applied"

    async def _request(
        self, project_id: str, approval: Approval, action: str
    ) -> CommandRequest | None:
        key = keys.entity(project_id, "approval", approval.id)
        common: dict[str, Any] = {
            "actor": DEADLINE_ACTOR,
            "project_id": project_id,
            "idempotency_key": f"deadline:{approval.id}",
            "entity_match": (key, approval.version),
        }
        if action == "reject":
            reason = "No decision before the deadline."
            return CommandRequest("reject", {"ids": [approval.id], "reason": reason}, **common)
        if action == "skip" and await self._still_blocked_on(project_id, approval):
            return CommandRequest("skip_task", {}, **common)
        return None

    async def _still_blocked_on(self, project_id: str, approval: Approval) -> bool:
        project = await self._store.get(Project, keys.project(project_id))
        return project is not None and project.blocked_story_id == approval.subject_id
