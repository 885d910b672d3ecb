"""The scheduled backup: what `awf backup` writes, into ``backup.dir``, once per
``orchestrator.backup_interval`` cluster-wide.

Every worker's cron ticks once a minute; time is cut into slots of ``backup_interval`` seconds on
Redis' clock (so workers with skewed clocks agree), and the first worker to claim a slot (SET NX)
takes its backup. The claim lives one interval, the whole slot at least; a backup that fails gives
its claim back so the next tick retries it. ``backup.dir`` must be one folder all workers reach
(a shared volume) for retention to see every backup; without it no cron is registered at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog

from services.worker.deps import deps
from shared.platform.redaction import redacted_settings
from shared.state import keys
from shared.state.backup_run import BackupResult, create_backup

if TYPE_CHECKING:
    from pathlib import Path

    from redis.asyncio import Redis

    from shared.platform.settings import Settings

__all__ = ["CRON_SECOND", "ScheduledBackup", "scheduled_backup", "take_scheduled_backup"]

log = structlog.get_logger("worker.backup")

CRON_SECOND = 30  # once a minute, away from the reconcile ticks' crowd at :00


@dataclass(frozen=True)
class ScheduledBackup:
    root: Path
    interval_s: int
    retention_days: int
    redis_url: str
    encryption_key: str | None
    config: dict[str, Any]

    @classmethod
    def from_settings(cls, settings: Settings) -> ScheduledBackup | None:
        if settings.backup.dir is None:
            return None
        key = settings.encryption_key
        return cls(
            root=settings.backup.dir,
            interval_s=settings.orchestrator.backup_interval,
            retention_days=settings.backup.retention_days,
            redis_url=settings.redis_url or "",
            encryption_key=key.get_secret_value() if key else None,
            config={"loaded": True, "settings": redacted_settings(settings)},
        )


async def scheduled_backup(ctx: dict[str, Any]) -> str | None:
    """The cron job: the folder written, or None when another worker has this slot's."""
    d = deps(ctx)
    plan = ScheduledBackup.from_settings(d.settings)
    if plan is None:
        return None
    seconds, _ = await d.store.redis.time()
    result = await take_scheduled_backup(d.store.redis, plan, d.worker_id, int(seconds))
    return str(result.folder) if result else None


async def take_scheduled_backup(
    redis: Redis, plan: ScheduledBackup, owner: str, now_s: int
) -> BackupResult | None:
    """Claim the slot of ``now_s`` and take its backup; None when it was claimed already."""
    slot = now_s // plan.interval_s
    claim = keys.scheduled_backup(slot)
    if not await redis.set(claim, owner, nx=True, ex=plan.interval_s):
        return None
    try:
        result = await create_backup(
            redis,
            url=plan.redis_url,
            root=plan.root,
            config=plan.config,
            retention_days=plan.retention_days,
            now=datetime.fromtimestamp(now_s, UTC),
            encryption_key=plan.encryption_key,
        )
    except BaseException:  # a failure, or the cron's timeout cancelling it
        await redis.delete(claim)  # the next tick retries this slot
        log.exception("scheduled_backup_failed", slot=slot, root=str(plan.root))
        raise
    log.info(
        "scheduled_backup_written",
        folder=str(result.folder),
        keys=result.manifest.counts.get("keys"),
        encrypted=result.manifest.encryption is not None,
        deleted=len(result.deleted),
    )
    return result
