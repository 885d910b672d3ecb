"""Backup -> wipe -> restore drills on the real embedded server, and every way a restore refuses."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from shared.domain.models import ScrumState
from shared.state import keys
from shared.state.backup import DUMP_FILE, BackupError, list_our_keys
from shared.state.backup_folder import MANIFEST, file_entries, write_manifest
from shared.state.backup_run import BackupResult, create_backup, restore_backup
from shared.state.project_export import comparable, export_project
from shared.state.snapshot import RDB_FILE
from tests.factories import dump_keys, make_project_in_state, run

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from shared.state.store import Store

ARQ_JOB = f"{keys.ARQ_PREFIX}:job:phase-1"


async def _populate(store: Store) -> list[str]:
    """A project in every Scrum state, an idempotent decision (a TTL'd claim) and arq keys."""
    ids = [await make_project_in_state(store, state) for state in ScrumState]
    await run(
        store, "backlog add_story", {"title": "Once"}, project_id=ids[0], idempotency_key="k1"
    )
    await store.redis.zadd(keys.ARQ_QUEUE, {"phase-1": 1_700_000_000_000})
    await store.redis.set(ARQ_JOB, '{"function":"run_phase"}', px=3_600_000)
    return ids


async def _everything(redis: Redis) -> dict[str, Any]:
    return {**await dump_keys(redis, "awf:*"), **await dump_keys(redis, "arq:*")}


async def _exports(redis: Redis, ids: list[str]) -> dict[str, Any]:
    exports = {pid: await export_project(redis, pid) for pid in ids}
    return {pid: comparable(e) for pid, e in exports.items() if e is not None}


async def _backup(redis: Redis, root: Path, url: str) -> BackupResult:
    config = {"loaded": False, "errors": []}
    return await create_backup(redis, url=url, root=root, config=config, retention_days=30)


async def test_drill_backup_wipe_restore_leaves_every_project_identical(
    store: Store, redis_url: str, tmp_path: Path
) -> None:
    ids = await _populate(store)
    before, exports_before = await _everything(store.redis), await _exports(store.redis, ids)
    ttl_before = await store.redis.pttl(ARQ_JOB)
    result = await _backup(store.redis, tmp_path, redis_url)
    await store.redis.flushdb()

    restored = await restore_backup(store.redis, result.folder, force=False)

    assert restored.stats.restored == result.manifest.counts["keys"] == len(before)
    assert restored.warnings == []
    assert await _everything(store.redis) == before
    assert await _exports(store.redis, ids) == exports_before
    assert ttl_before - 60_000 < await store.redis.pttl(ARQ_JOB) <= ttl_before


async def test_a_backup_holds_a_snapshot_exports_config_and_a_checksummed_manifest(
    store: Store, redis_url: str, tmp_path: Path
) -> None:
    ids = await _populate(store)
    result = await _backup(store.redis, tmp_path, redis_url)

    names = {p.relative_to(result.folder).as_posix() for p in result.folder.rglob("*")}
    assert {MANIFEST, DUMP_FILE, RDB_FILE, "config.json", "projects"} <= names
    assert {f"projects/{pid}.json" for pid in ids} <= names
    assert result.manifest.rdb == {"included": True, "skipped_because": None}
    assert sorted(result.manifest.projects) == sorted(ids)
    assert result.manifest.counts["projects"] == len(ids)
    assert result.manifest.files == file_entries(result.folder)
    assert result.folder.name.startswith("awf-backup-")
    assert [p.name for p in tmp_path.iterdir()] == [result.folder.name]  # no staging left


async def test_a_remote_server_gets_the_logical_dump_only(
    store: Store, redis_url: str, tmp_path: Path
) -> None:
    await _populate(store)
    as_if_remote = redis_url.replace("127.0.0.1", "localhost.invalid")
    result = await _backup(store.redis, tmp_path, as_if_remote)

    assert result.manifest.rdb["included"] is False
    assert "not on this machine" in result.manifest.rdb["skipped_because"]
    assert not (result.folder / RDB_FILE).exists()
    assert "localhost.invalid" in result.manifest.source["redis_url"]


async def test_restore_refuses_a_target_holding_our_keys_and_changes_nothing(
    store: Store, redis_url: str, tmp_path: Path
) -> None:
    ids = await _populate(store)
    result = await _backup(store.redis, tmp_path, redis_url)
    await run(store, "backlog add_story", {"title": "After the backup"}, project_id=ids[0])
    before = await _everything(store.redis)

    with pytest.raises(BackupError, match=r"already holds keys of ours.*--force"):
        await restore_backup(store.redis, result.folder, force=False)

    assert await _everything(store.redis) == before


async def test_force_overwrites_the_backed_up_keys_and_keeps_all_others(
    store: Store, redis_url: str, tmp_path: Path
) -> None:
    pid = await make_project_in_state(store, ScrumState.IDLE)
    exported = comparable(await _must_export(store.redis, pid))
    result = await _backup(store.redis, tmp_path, redis_url)
    await run(store, "backlog add_story", {"title": "Written after the backup"}, project_id=pid)
    later = await make_project_in_state(store, ScrumState.IDLE)

    restored = await restore_backup(store.redis, result.folder, force=True)

    assert await export_project(store.redis, later) is not None  # not in the backup: kept
    assert await store.redis.zscore(keys.PROJECTS, later) is None  # one key, restored as it was
    assert restored.warnings == [f"project {pid} differs from {pid}.json"]  # the new story's key
    now = comparable(await _must_export(store.redis, pid))
    assert now["project"] == exported["project"]
    assert now["timeline"] == exported["timeline"]
    assert len(now["entities"]["story"]) == len(exported["entities"]["story"]) + 1


async def test_keys_expired_since_the_backup_are_not_brought_back(
    store: Store, redis_url: str, tmp_path: Path
) -> None:
    lease, fence = keys.lease(keys.GATEWAY_LEASE), keys.lease_fence(keys.GATEWAY_LEASE)
    await store.redis.set(lease, "1:pod-a", px=1_000)
    await store.redis.set(fence, "1")
    result = await _backup(store.redis, tmp_path, redis_url)
    while await store.redis.exists(lease):
        await asyncio.sleep(0.05)
    await store.redis.flushdb()

    restored = await restore_backup(store.redis, result.folder, force=False)

    assert (restored.stats.restored, restored.stats.expired) == (1, 1)
    assert await store.redis.exists(lease) == 0
    assert await store.redis.get(fence) == "1"


def _tamper_dump(folder: Path) -> None:
    with (folder / DUMP_FILE).open("a") as handle:
        handle.write("\n")


def _drop_manifest(folder: Path) -> None:
    (folder / MANIFEST).unlink()


def _garble_manifest(folder: Path) -> None:
    (folder / MANIFEST).write_text("{not json")


def _remove_export(folder: Path) -> None:
    next((folder / "projects").iterdir()).unlink()


def _corrupt_payload_with_matching_checksum(folder: Path) -> None:
    """A payload the server's CRC rejects, in a file whose SHA-256 the manifest agrees with."""
    lines = (folder / DUMP_FILE).read_text().splitlines()
    first = json.loads(lines[0])
    payload = bytearray(base64.b64decode(first["dump"]))
    payload[1] ^= 0xFF
    first["dump"] = base64.b64encode(payload).decode()
    (folder / DUMP_FILE).write_text("\n".join([json.dumps(first), *lines[1:]]) + "\n")
    _rewrite_manifest_checksums(folder)


def _bad_line_with_matching_checksum(folder: Path) -> None:
    with (folder / DUMP_FILE).open("a") as handle:
        handle.write('{"key": "awf:x"}\n')
    _rewrite_manifest_checksums(folder)


def _rewrite_manifest_checksums(folder: Path) -> None:
    from shared.state.backup_folder import Manifest

    manifest = Manifest.model_validate_json((folder / MANIFEST).read_bytes())
    write_manifest(folder, manifest.model_copy(update={"files": file_entries(folder)}))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        pytest.param(_tamper_dump, "keys.jsonl does not match its checksum", id="tampered-dump"),
        pytest.param(_drop_manifest, "has no manifest.json", id="no-manifest"),
        pytest.param(_garble_manifest, "manifest.json is corrupt", id="garbled-manifest"),
        pytest.param(_remove_export, r"projects/.*\.json is missing", id="missing-export"),
        pytest.param(
            _corrupt_payload_with_matching_checksum, "refused the dump", id="payload-rejected"
        ),
        pytest.param(
            _bad_line_with_matching_checksum, r"line \d+ is not a dump record", id="bad-line"
        ),
    ],
)
async def test_a_damaged_backup_is_refused_before_anything_is_written(
    store: Store, redis_url: str, tmp_path: Path, damage: Any, message: str
) -> None:
    await make_project_in_state(store, ScrumState.IDLE)
    result = await _backup(store.redis, tmp_path, redis_url)
    await store.redis.flushdb()
    damage(result.folder)

    with pytest.raises(BackupError, match=message):
        await restore_backup(store.redis, result.folder, force=False)

    assert await list_our_keys(store.redis) == []


async def test_restore_of_a_missing_folder_is_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="is not a directory"):
        await restore_backup(store.redis, tmp_path / "nope", force=False)


async def _must_export(redis: Redis, project_id: str) -> Any:
    export = await export_project(redis, project_id)
    assert export is not None
    return export
