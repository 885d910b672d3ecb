"""`awf backup`, `restore`, `export` and `import` as an operator runs them (typer's CliRunner)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner, Result

from services.cli.main import app
from services.cli.session import Session, write_session
from shared.domain.models import ScrumState
from shared.platform.redaction import REDACTED
from shared.state.backup_crypto import MAGIC, open_sealed
from tests.factories import get_project, make_project_in_state, new_project_id

if TYPE_CHECKING:
    from shared.state.store import Store

runner = CliRunner()
SECRETS = {
    "JWT_SECRET": "jwt-Kq83nZ0vW1xY7pL4mR9sT2uV6-aB3cD5eF7",
    "ENCRYPTION_KEY": "enc-Hb5cJ8dK1eL4fM7gN0hP3iQ6rS-gH9jK2",
    "ANTHROPIC_API_KEY": "sk-ant-Zx9Wv8Ut7Sr6Qp5On4Ml3",
    "OPENAI_API_KEY": "sk-openai-Aa1Bb2Cc3Dd4Ee5Ff6",
    "DISCORD_BOT_TOKEN": "discord-Gg7Hh8Ii9Jj0Kk1Ll2",
    "SENTRY_DSN": "https://sentrykey-Mm3Nn4@o1.ingest.sentry.io/2",
}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str | None]:
    """Production settings with every secret set to a known string; no session, no REDIS_URL."""
    config = tmp_path / "config.yml"
    config.write_text("{}\n")
    state_home = tmp_path / "state"
    return {
        **SECRETS,
        "AWF_ENV": "production",
        "AWF_CONFIG": str(config),
        "XDG_STATE_HOME": str(state_home),
        "REDIS_URL": None,
    }


async def awf(*args: str, env: dict[str, str | None]) -> Result:
    """Run the CLI in a thread: its commands call asyncio.run, the test's loop keeps running."""
    return await asyncio.to_thread(runner.invoke, app, list(args), env={**env, "COLUMNS": "300"})


def _only_backup(root: Path) -> Path:
    (folder,) = root.iterdir()
    return folder


async def test_backup_wipe_restore_through_the_cli(
    store: Store, redis_url: str, tmp_path: Path, env: dict[str, str | None]
) -> None:
    pid = await make_project_in_state(store, ScrumState.SPRINT_ACTIVE)
    root = tmp_path / "backups"

    made = await awf("backup", "--dir", str(root), "--redis-url", redis_url, env=env)
    assert made.exit_code == 0, made.output
    assert "Backup written to" in made.output
    assert "with an RDB snapshot; encrypted with ENCRYPTION_KEY" in made.output
    await store.redis.flushdb()
    restored = await awf("restore", str(_only_backup(root)), "--redis-url", redis_url, env=env)

    assert restored.exit_code == 0, restored.output
    assert "Restored" in restored.output
    assert (await get_project(store, pid)).state is ScrumState.SPRINT_ACTIVE
    again = await awf("restore", str(_only_backup(root)), "--redis-url", redis_url, env=env)
    assert again.exit_code == 1
    assert "already holds keys of ours" in again.output


async def test_no_secret_is_written_into_a_backup(
    store: Store, redis_url: str, tmp_path: Path, env: dict[str, str | None]
) -> None:
    await make_project_in_state(store, ScrumState.IDLE)
    root = tmp_path / "backups"
    password_url = redis_url.replace("redis://", "redis://ops:hunter2-Pw9Xq7Rz5@")

    made = await awf(
        "backup",
        "--dir",
        str(root),
        "--redis-url",
        redis_url,
        env={**env, "REDIS_URL": password_url},
    )

    assert made.exit_code == 0, made.output
    files = [p for p in _only_backup(root).rglob("*") if p.is_file()]
    for secret in [*SECRETS.values(), "hunter2-Pw9Xq7Rz5", "sentrykey"]:
        assert not [p.name for p in files if secret.encode() in p.read_bytes()], secret
    sealed = (_only_backup(root) / "config.json").read_bytes()  # encrypted: ENCRYPTION_KEY is set
    config = json.loads(open_sealed(sealed, SECRETS["ENCRYPTION_KEY"], "config.json"))
    assert config["loaded"] is True, config
    assert config["settings"]["jwt_secret"] == REDACTED
    assert config["settings"]["redis_url"].startswith(f"redis://{REDACTED}@127.0.0.1:")


async def test_export_then_import_under_a_new_id_through_the_cli(
    store: Store, redis_url: str, tmp_path: Path, env: dict[str, str | None]
) -> None:
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    out, copy = tmp_path / "p.json", new_project_id()

    exported = await awf("export", pid, "--out", str(out), "--redis-url", redis_url, env=env)
    imported = await awf("import", str(out), "--as", copy, "--redis-url", redis_url, env=env)
    twice = await awf("import", str(out), "--as", copy, "--redis-url", redis_url, env=env)

    assert exported.exit_code == 0, exported.output
    assert json.loads(out.read_text())["project_id"] == pid
    assert imported.exit_code == 0, imported.output
    assert f"Imported project {copy}" in imported.output
    assert (await get_project(store, copy)).state is ScrumState.BACKLOG_READY
    assert twice.exit_code == 1
    assert f"project {copy} already exists" in twice.output


async def test_export_prints_to_stdout_and_finds_redis_in_the_awf_up_session(
    store: Store, redis_url: str, tmp_path: Path, env: dict[str, str | None]
) -> None:
    pid = await make_project_in_state(store, ScrumState.IDLE)
    session_file = Path(str(env["XDG_STATE_HOME"])) / "awf" / "session.json"
    write_session(Session(api_url="http://x", token="t", redis_url=redis_url), session_file)

    printed = await awf("export", pid, env=env)

    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.stdout)["project"]["id"] == pid


async def test_redis_url_from_the_environment(
    store: Store, redis_url: str, env: dict[str, str | None]
) -> None:
    pid = await make_project_in_state(store, ScrumState.IDLE)

    printed = await awf("export", pid, env={**env, "REDIS_URL": redis_url})

    assert printed.exit_code == 0, printed.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["export", "p-1"], "No Redis to use: pass --redis-url", id="no-redis"),
        pytest.param(
            ["export", "p-1", "--redis-url", "redis://127.0.0.1:1/0"],
            "Cannot reach Redis at redis://127.0.0.1:1/0",
            id="unreachable",
        ),
        pytest.param(["restore", "/nonexistent/backup"], "is not a directory", id="missing-dir"),
        pytest.param(["export", "p-missing"], "Project p-missing not found", id="no-project"),
        pytest.param(
            ["import", "/nonexistent.json"], "Cannot read /nonexistent.json", id="no-file"
        ),
    ],
)
async def test_failures_exit_1_with_one_clear_line(
    redis_url: str, env: dict[str, str | None], args: list[str], message: str
) -> None:
    needs_url = args[0] != "import" and "--redis-url" not in args and args[1] != "p-1"
    result = await awf(*args, *(["--redis-url", redis_url] if needs_url else []), env=env)

    assert result.exit_code == 1
    assert message in result.output


async def test_import_of_a_file_that_is_no_export_exits_1(
    tmp_path: Path, redis_url: str, env: dict[str, str | None]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something-else"}')

    result = await awf("import", str(bad), "--redis-url", redis_url, env=env)

    assert result.exit_code == 1
    assert "is not a project export" in result.output


async def test_an_encrypted_backup_needs_its_key_to_restore_or_import(
    store: Store, redis_url: str, tmp_path: Path, env: dict[str, str | None]
) -> None:
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    root = tmp_path / "backups"
    made = await awf("backup", "--dir", str(root), "--redis-url", redis_url, env=env)
    assert made.exit_code == 0, made.output
    export = _only_backup(root) / "projects" / f"{pid}.json"
    assert export.read_bytes().startswith(MAGIC)
    await store.redis.flushdb()
    wrong = {**env, "ENCRYPTION_KEY": "other-Qw7Er5Ty3Ui1Op9As8Df6Gh4Jk2"}
    dev_without_key = {**env, "AWF_ENV": "dev", "ENCRYPTION_KEY": None}

    refused = await awf("restore", str(_only_backup(root)), "--redis-url", redis_url, env=wrong)
    no_key = await awf("import", str(export), "--redis-url", redis_url, env=dev_without_key)
    assert await store.redis.dbsize() == 0
    imported = await awf("import", str(export), "--redis-url", redis_url, env=env)

    assert refused.exit_code == 1
    assert "ENCRYPTION_KEY does not match this backup" in refused.output
    assert no_key.exit_code == 1
    assert "the backup is encrypted; set ENCRYPTION_KEY" in no_key.output
    assert imported.exit_code == 0, imported.output
    assert (await get_project(store, pid)).state is ScrumState.BACKLOG_READY


async def test_decrypt_backup_writes_a_plain_backup_restore_takes(
    store: Store, redis_url: str, tmp_path: Path, env: dict[str, str | None]
) -> None:
    pid = await make_project_in_state(store, ScrumState.SPRINT_ACTIVE)
    root, plain = tmp_path / "backups", tmp_path / "plain"
    made = await awf("backup", "--dir", str(root), "--redis-url", redis_url, env=env)
    assert made.exit_code == 0, made.output
    wrong = {**env, "ENCRYPTION_KEY": "other-Qw7Er5Ty3Ui1Op9As8Df6Gh4Jk2"}

    refused = await awf("decrypt-backup", str(_only_backup(root)), "--out", str(plain), env=wrong)
    decrypted = await awf("decrypt-backup", str(_only_backup(root)), "--out", str(plain), env=env)
    twice = await awf("decrypt-backup", str(_only_backup(root)), "--out", str(plain), env=env)
    await store.redis.flushdb()
    restored = await awf("restore", str(plain), "--redis-url", redis_url, env=wrong)

    assert refused.exit_code == 1
    assert "ENCRYPTION_KEY does not match this backup" in refused.output
    assert decrypted.exit_code == 0, decrypted.output
    assert (plain / "dump.rdb").read_bytes().startswith(b"REDIS")
    assert json.loads((plain / "manifest.json").read_text())["encryption"] is None
    assert twice.exit_code == 1
    assert "already exists" in twice.output
    assert restored.exit_code == 0, restored.output  # plain: no key needed, any key ignored
    assert (await get_project(store, pid)).state is ScrumState.SPRINT_ACTIVE
