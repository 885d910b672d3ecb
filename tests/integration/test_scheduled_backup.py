"""The workers' scheduled backup: one per ``orchestrator.backup_interval`` slot cluster-wide,
retention applied, encrypted with ENCRYPTION_KEY, opt-in through ``backup.dir``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pytest

from services.worker.jobs.backup import ScheduledBackup, scheduled_backup, take_scheduled_backup
from services.worker.main import build_worker_settings
from shared.domain.models import ScrumState
from shared.platform.settings import Settings, load_settings
from shared.state import keys
from shared.state.backup_crypto import SCHEME
from shared.state.backup_folder import load_manifest
from shared.state.store import Store
from tests.factories import make_project_in_state

if TYPE_CHECKING:
    from redis.asyncio import Redis

pytestmark = pytest.mark.integration

KEY = "enc-Hb5cJ8dK1eL4fM7gN0hP3iQ6rS-gH9jK2"
HOUR = 3600


def _settings(redis_url: str, tmp_path: Path, **backup: Any) -> Settings:
    config = tmp_path / "config.yml"
    config.write_text("{}\n")
    return load_settings(
        config,
        awf_env="test",
        redis_url=redis_url,
        encryption_key=KEY,
        orchestrator={"backup_interval": HOUR},
        backup=backup,
    )


def _worker_ctx(settings: Settings, redis: Redis, name: str) -> dict[str, Any]:
    """What a worker's cron gets: its deps (the backup reads settings, store and worker id)."""
    return {"deps": SimpleNamespace(settings=settings, store=Store(redis), worker_id=name)}


def _backups(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.name.startswith("awf-backup-"))


async def test_two_workers_ticking_together_take_one_backup(
    store: Store, redis_url: str, tmp_path: Path
) -> None:
    await make_project_in_state(store, ScrumState.IDLE)
    root = tmp_path / "backups"
    settings = _settings(redis_url, tmp_path, dir=str(root))
    workers = [_worker_ctx(settings, store.redis, f"worker-{n}") for n in (1, 2)]

    results = await asyncio.gather(*(scheduled_backup(ctx) for ctx in workers))

    (written,) = [r for r in results if r is not None]
    assert results.count(None) == 1
    assert _backups(root) == [Path(written)]
    assert load_manifest(Path(written)).encryption == SCHEME
    again = await asyncio.gather(*(scheduled_backup(ctx) for ctx in workers))
    assert again == [None, None]  # the same slot: already taken
    assert len(_backups(root)) == 1


async def test_one_backup_per_interval_and_retention_applied(
    store: Store, redis_url: str, tmp_path: Path
) -> None:
    root = tmp_path / "backups"
    plan = ScheduledBackup.from_settings(
        _settings(redis_url, tmp_path, dir=str(root), retention_days=1)
    )
    assert plan is not None
    start = int(datetime(2026, 11, 1, tzinfo=UTC).timestamp())
    taken = [
        await take_scheduled_backup(store.redis, plan, "w", start + offset)
        for offset in (0, 60, HOUR - 1, HOUR, HOUR + 30, 2 * HOUR + 5, 30 * HOUR)
    ]

    assert [r is not None for r in taken] == [True, False, False, True, False, True, True]
    names = [p.name for p in _backups(root)]
    assert names == ["awf-backup-20261102T060000Z"]  # the day-old ones went by retention
    assert [len(r.deleted) for r in taken if r is not None] == [0, 0, 0, 3]


async def test_a_failed_backup_gives_its_slot_back(
    store: Store, redis_url: str, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    plan = ScheduledBackup.from_settings(_settings(redis_url, tmp_path, dir=str(blocker)))
    assert plan is not None

    with pytest.raises(OSError, match="not-a-folder"):
        await take_scheduled_backup(store.redis, plan, "w", 10 * HOUR)

    assert await store.redis.exists(keys.scheduled_backup(10)) == 0
    fixed = ScheduledBackup(**{**plan.__dict__, "root": tmp_path / "backups"})
    assert await take_scheduled_backup(store.redis, fixed, "w", 10 * HOUR) is not None


async def test_without_a_backup_dir_there_is_no_cron_and_no_backup(
    store: Store, redis_url: str, tmp_path: Path
) -> None:
    settings = _settings(redis_url, tmp_path)
    assert await scheduled_backup(_worker_ctx(settings, store.redis, "w")) is None
    assert await store.redis.keys(keys.scheduled_backup(0).replace(":0", ":*")) == []
    crons = [c.name for c in build_worker_settings(settings).cron_jobs]  # type: ignore[attr-defined]
    assert crons == ["cron:reconcile"]
    opted_in = _settings(redis_url, tmp_path, dir=str(tmp_path / "b"))
    crons = [c.name for c in build_worker_settings(opted_in).cron_jobs]  # type: ignore[attr-defined]
    assert crons == ["cron:reconcile", "cron:scheduled_backup"]
