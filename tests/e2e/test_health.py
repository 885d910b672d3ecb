"""`awf health` against real processes: an API replica on a private Redis, then a worker and a
gateway pod. Healthy exits 0; a stopped Redis, or a required component not running, exits 1
naming it."""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.platform.embedded_redis import EmbeddedRedis
from tests.e2e.api_replicas import REPO_ROOT, Replica, clean_env, start_replica, wait_ready
from tests.e2e.conftest import run_awf

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(120)]


@pytest.fixture(name="private_redis")
def private_redis_fixture(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    """A Redis of this test's own: one test stops it."""
    with EmbeddedRedis(tmp_path / "redis", appendonly=False) as server:
        yield server


@pytest.fixture(name="api")
def api_fixture(private_redis: EmbeddedRedis, tmp_path: Path) -> Iterator[Replica]:
    replica = start_replica(private_redis.url, secrets.token_urlsafe(36), tmp_path, "api")
    try:
        wait_ready(replica)
        yield replica
    finally:
        replica.stop()


def health(env: dict[str, str], api: Replica, redis_url: str, *extra: str) -> Any:
    """`awf health --json ...`: (exit code, the report, stderr)."""
    result = run_awf(
        env, "health", "--json", "--api-url", api.url, "--redis-url", redis_url, *extra
    )
    return result.returncode, json.loads(result.stdout), result.stderr


def statuses(report: dict[str, Any]) -> dict[str, str]:
    return {c["component"]: c["status"] for c in report["components"]}


def spawn(module: str, redis: EmbeddedRedis, tmp: Path, **settings: str) -> subprocess.Popen[bytes]:
    config = tmp / f"{module}.yml"
    config.write_text("{}\n")
    env = clean_env() | {"AWF_ENV": "test", "AWF_CONFIG": str(config), "REDIS_URL": redis.url}
    with (tmp / f"{module}.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=REPO_ROOT,
            env=env | settings,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def until_healthy(env: dict[str, str], api: Replica, redis_url: str, *extra: str) -> Any:
    deadline = time.monotonic() + 60
    while True:
        code, report, err = health(env, api, redis_url, *extra)
        if code == 0 or time.monotonic() > deadline:
            return code, report, err
        time.sleep(0.5)


def test_api_and_redis_are_healthy_with_nothing_else_running(
    awf_env: dict[str, str], api: Replica, private_redis: EmbeddedRedis
) -> None:
    table = run_awf(awf_env, "health", "--api-url", api.url, "--redis-url", private_redis.url)
    assert table.returncode == 0, table.stderr
    assert "not configured: no gateway is running" in table.stdout

    code, report, _ = health(awf_env, api, private_redis.url)
    assert code == 0
    assert report["healthy"] is True
    assert statuses(report) == {
        "api": "ok",
        "redis": "ok",
        "worker": "absent",
        "discord": "absent",
    }

    code, report, err = health(awf_env, api, private_redis.url, "--require", "discord")
    assert code == 1
    assert report["failing"] == ["discord"]
    assert "unhealthy: discord" in err


def test_a_stopped_redis_is_unhealthy_and_named(
    awf_env: dict[str, str], api: Replica, private_redis: EmbeddedRedis
) -> None:
    url = private_redis.url
    private_redis.stop()

    code, report, err = health(awf_env, api, url)

    assert code == 1
    assert report["failing"] == ["api", "redis"]  # the API answers /readyz 503 without Redis
    assert "unhealthy: api, redis" in err
    assert statuses(report)["worker"] == "unknown"


def test_a_worker_and_a_gateway_leader_satisfy_require_until_the_gateway_stops(
    awf_env: dict[str, str], api: Replica, private_redis: EmbeddedRedis, tmp_path: Path
) -> None:
    required = ("--require", "worker", "--require", "discord")
    model = {"ANTHROPIC_BASE_URL": "http://127.0.0.1:9"}  # never called: no work is queued
    worker = spawn("services.worker", private_redis, tmp_path, **model)
    gateway = spawn("services.gateway", private_redis, tmp_path, GATEWAY__DUTY="heartbeat")
    try:
        code, report, err = until_healthy(awf_env, api, private_redis.url, *required)
        assert code == 0, (report, err)
        discord = next(c for c in report["components"] if c["component"] == "discord")
        assert f":{gateway.pid}:" in discord["data"]["leader"]
        assert "duty beat" in discord["detail"]

        gateway.send_signal(signal.SIGTERM)  # hands the lease back on its way out
        assert gateway.wait(30) == 0
        code, report, err = health(awf_env, api, private_redis.url, *required)
        assert code == 1
        assert report["failing"] == ["discord"]
        assert "not configured" in next(
            c["detail"] for c in report["components"] if c["component"] == "discord"
        )
    finally:
        for process in (worker, gateway):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(30)
