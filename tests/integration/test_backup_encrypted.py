"""Backups encrypted with ENCRYPTION_KEY: a drill round trip, and every key problem refused before
anything is written to Redis."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from shared.domain.models import ScrumState
from shared.state.backup import DUMP_FILE, BackupError, list_our_keys
from shared.state.backup_crypto import MAGIC, SCHEME, open_sealed
from shared.state.backup_folder import MANIFEST, file_entries, load_manifest, write_manifest
from shared.state.backup_run import BackupResult, create_backup, restore_backup
from shared.state.project_export import comparable, export_project
from shared.state.snapshot import RDB_FILE
from tests.factories import dump_keys, make_project_in_state

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from shared.state.store import Store

KEY = "enc-Hb5cJ8dK1eL4fM7gN0hP3iQ6rS-gH9jK2"


async def _backup(redis: Redis, root: Path, url: str, key: str | None = KEY) -> BackupResult:
    config = {"loaded": True, "settings": {"logging": {"level": "INFO"}}}
    return await create_backup(
        redis, url=url, root=root, config=config, retention_days=30, encryption_key=key
    )


async def _state(redis: Redis, ids: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    exports = {pid: await export_project(redis, pid) for pid in ids}
    compared = {pid: comparable(e) for pid, e in exports.items() if e is not None}
    return await dump_keys(redis, "awf:*"), compared


async def test_an_encrypted_backup_restores_identical_with_its_key(
    store: Store, redis_url: str, tmp_path: Path
) -> None:
    ids = [await make_project_in_state(store, state) for state in ScrumState]
    before = await _state(store.redis, ids)
    result = await _backup(store.redis, tmp_path, redis_url)
    await store.redis.flushdb()

    restored = await restore_backup(store.redis, result.folder, force=False, encryption_key=KEY)

    assert restored.stats.restored == result.manifest.counts["keys"]
    assert await _state(store.redis, ids) == before
    assert load_manifest(result.folder).encryption == SCHEME


async def test_every_file_but_the_manifest_is_ciphertext(
    store: Store, redis_url: str, tmp_path: Path
) -> None:
    project_id = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    result = await _backup(store.redis, tmp_path, redis_url)

    files = {p.relative_to(result.folder).as_posix(): p for p in result.folder.rglob("*")}
    assert {DUMP_FILE, RDB_FILE, "config.json", f"projects/{project_id}.json"} <= set(files)
    for name, path in files.items():
        if path.is_file() and name != MANIFEST:
            data = path.read_bytes()
            assert data.startswith(MAGIC), name
            for plaintext in (b'"key"', b"awf:", b"REDIS0", b"INFO", project_id.encode()):
                assert plaintext not in data, (name, plaintext)
    dump = open_sealed(files[DUMP_FILE].read_bytes(), KEY, DUMP_FILE)
    assert b'"key":"awf:' in dump


async def test_a_plain_backup_stays_plain(store: Store, redis_url: str, tmp_path: Path) -> None:
    await make_project_in_state(store, ScrumState.IDLE)
    result = await _backup(store.redis, tmp_path, redis_url, key=None)
    assert result.manifest.encryption is None
    assert (result.folder / DUMP_FILE).read_bytes().startswith(b'{"key":')
    await store.redis.flushdb()
    await restore_backup(store.redis, result.folder, force=False, encryption_key=KEY)
    assert await list_our_keys(store.redis) != []


@pytest.mark.parametrize(
    ("key", "message"),
    [
        pytest.param(None, "the backup is encrypted; set ENCRYPTION_KEY", id="no-key"),
        pytest.param("", "the backup is encrypted; set ENCRYPTION_KEY", id="empty-key"),
        pytest.param(
            "another-Zq8wX3vB6nM1kL4jH7gF0dS",
            "ENCRYPTION_KEY does not match this backup",
            id="wrong-key",
        ),
    ],
)
async def test_without_the_right_key_nothing_is_restored(
    store: Store, redis_url: str, tmp_path: Path, key: str | None, message: str
) -> None:
    await make_project_in_state(store, ScrumState.IDLE)
    result = await _backup(store.redis, tmp_path, redis_url)
    await store.redis.flushdb()

    with pytest.raises(BackupError, match=message):
        await restore_backup(store.redis, result.folder, force=False, encryption_key=key)

    assert await list_our_keys(store.redis) == []


async def test_a_tampered_file_with_a_matching_checksum_is_refused(
    store: Store, redis_url: str, tmp_path: Path
) -> None:
    await make_project_in_state(store, ScrumState.IDLE)
    result = await _backup(store.redis, tmp_path, redis_url)
    await store.redis.flushdb()
    dump = result.folder / DUMP_FILE
    data = bytearray(dump.read_bytes())
    data[-1] ^= 1
    dump.write_bytes(bytes(data))
    write_manifest(
        result.folder, result.manifest.model_copy(update={"files": file_entries(result.folder)})
    )

    with pytest.raises(BackupError, match=f"{DUMP_FILE} does not decrypt with it"):
        await restore_backup(store.redis, result.folder, force=False, encryption_key=KEY)

    assert await list_our_keys(store.redis) == []
