"""Backup folders without Redis: names, retention, manifests, dump lines, redaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from shared.platform.redaction import REDACTED, mask_url, redacted_settings
from shared.platform.settings import load_settings
from shared.state.backup import BackupError, DumpRecord
from shared.state.backup_folder import (
    Manifest,
    apply_retention,
    file_entries,
    load_manifest,
    staging_paths,
    write_manifest,
)
from shared.state.redis_values import stream_ids_increase

NOW = datetime(2026, 8, 22, 12, 0, tzinfo=UTC)


def _backup_at(root: Path, when: datetime, suffix: str = "") -> Path:
    folder = root / f"awf-backup-{when:%Y%m%dT%H%M%SZ}{suffix}"
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text("{}")
    return folder


def test_retention_deletes_only_backup_folders_older_than_the_limit(tmp_path: Path) -> None:
    old = _backup_at(tmp_path, NOW - timedelta(days=31))
    old_twin = _backup_at(tmp_path, NOW - timedelta(days=31), "-2")
    recent = _backup_at(tmp_path, NOW - timedelta(days=29))
    lookalike = tmp_path / "awf-backup-notes"
    lookalike.mkdir()
    stray_file = tmp_path / "awf-backup-20000101T000000Z.tar"
    stray_file.write_text("kept")
    (tmp_path / "link").symlink_to(old)

    deleted = apply_retention(tmp_path, 30, NOW)

    assert deleted == [old, old_twin]
    assert recent.is_dir()
    assert lookalike.is_dir()
    assert stray_file.is_file()


def test_retention_zero_keeps_everything(tmp_path: Path) -> None:
    old = _backup_at(tmp_path, NOW - timedelta(days=3650))

    assert apply_retention(tmp_path, 0, NOW) == []
    assert old.is_dir()


def test_two_backups_in_one_second_get_distinct_names(tmp_path: Path) -> None:
    _backup_at(tmp_path, NOW)

    staging, final = staging_paths(tmp_path, NOW)

    assert final.name == "awf-backup-20260822T120000Z-2"
    assert staging.name == ".awf-backup-20260822T120000Z-2.partial"


def test_a_manifest_round_trips_and_catches_a_changed_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.json").write_text("{}")
    write_manifest(tmp_path, Manifest(created_at=NOW, files=file_entries(tmp_path)))
    assert set(load_manifest(tmp_path).files) == {"sub/a.json"}

    (tmp_path / "sub" / "a.json").write_text("[]")

    with pytest.raises(BackupError, match=r"sub/a\.json does not match its checksum"):
        load_manifest(tmp_path)


def test_a_manifest_may_not_point_outside_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    folder.mkdir()
    (tmp_path / "secret").write_text("x")
    entries = file_entries(tmp_path)
    write_manifest(folder, Manifest(created_at=NOW, files={"../secret": entries["secret"]}))

    with pytest.raises(BackupError, match="outside the backup"):
        load_manifest(folder)


def test_a_dump_record_round_trips_binary_payloads() -> None:
    record = DumpRecord("awf:{p}:timeline", "stream", 1_700_000_000_000, b"\x00\xff\x10")

    assert DumpRecord.parse(record.line(), 1) == record


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("not json", id="not-json"),
        pytest.param('{"key": "k", "type": "string", "expire_at_ms": null}', id="no-dump"),
        pytest.param(
            '{"key": "k", "type": "string", "expire_at_ms": null, "dump": "%%"}', id="b64"
        ),
        pytest.param('{"key": 1, "type": "string", "expire_at_ms": null, "dump": ""}', id="key"),
    ],
)
def test_a_bad_dump_line_names_its_number(line: str) -> None:
    with pytest.raises(BackupError, match=r"keys\.jsonl line 7 is not a dump record"):
        DumpRecord.parse(line, 7)


@pytest.mark.parametrize(
    ("ids", "ok"),
    [
        pytest.param(["1-0", "1-1", "2-0"], True, id="increasing"),
        pytest.param(["2-0", "1-0"], False, id="decreasing"),
        pytest.param(["1-0", "1-0"], False, id="repeated"),
        pytest.param(["0-0"], False, id="zero"),
        pytest.param(["1-x"], False, id="malformed"),
    ],
)
def test_stream_ids_must_increase(ids: list[str], ok: bool) -> None:
    assert stream_ids_increase(ids) is ok


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        pytest.param("redis://:pw@h:6379/0", f"redis://{REDACTED}@h:6379/0", id="password"),
        pytest.param("rediss://u:pw@h/1", f"rediss://{REDACTED}@h/1", id="user-password"),
        pytest.param(
            "redis://h/0?password=pw&x=1", f"redis://h/0?password={REDACTED}&x=1", id="query"
        ),
        pytest.param("redis://h:6379/0", "redis://h:6379/0", id="plain"),
        pytest.param("not a url", "not a url", id="text"),
    ],
)
def test_urls_lose_their_credentials(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_redacted_settings_hide_every_secret_and_keep_the_rest(tmp_path: Path) -> None:
    config = tmp_path / "config.yml"
    config.write_text("orchestrator:\n  mode: partial\n")
    settings = load_settings(
        config,
        awf_env="test",
        jwt_secret=SecretStr("jwt-value-1"),
        anthropic_api_key=SecretStr("ant-value-2"),
        redis_url="redis://:redis-value-3@h:6379/0",
    )

    redacted = redacted_settings(settings)

    text = repr(redacted)
    assert not any(s in text for s in ("jwt-value-1", "ant-value-2", "redis-value-3"))
    assert redacted["jwt_secret"] == redacted["anthropic_api_key"] == REDACTED
    assert redacted["sentry_dsn"] is None
    assert redacted["orchestrator"]["mode"] == "partial"
