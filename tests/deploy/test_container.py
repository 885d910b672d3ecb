"""The image's entrypoint dispatcher and health probe, against the real services."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis

from services import entrypoint, healthcheck
from services.gateway.__main__ import owner_id
from services.worker.main import build_worker_settings
from shared.platform.settings import Settings


def test_the_command_selects_the_service() -> None:
    python = sys.executable
    assert entrypoint.command_for(["api"]) == [python, "-m", "services.api"]
    assert entrypoint.command_for(["worker"]) == [python, "-m", "services.worker"]
    assert entrypoint.command_for(["gateway", "-x"]) == [python, "-m", "services.gateway", "-x"]
    assert entrypoint.command_for(["health", "api"]) == [
        python,
        "-m",
        "services.healthcheck",
        "api",
    ]
    assert entrypoint.command_for(["awf", "backup"]) == ["awf", "backup"]
    with pytest.raises(ValueError, match="usage"):
        entrypoint.command_for([])


def test_probe_names_match_the_services(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOSTNAME", "awf-worker-7d9")
    worker_settings: Any = build_worker_settings(settings)  # a class arq reads attributes of
    assert healthcheck.worker_health_key("awf-worker-7d9") == worker_settings.health_check_key
    client_name = f"awf.gateway.{owner_id().replace(':', '.')}"  # as services.gateway names it
    assert client_name.startswith(healthcheck.gateway_client_prefix(socket.gethostname()))


def test_the_service_is_found_from_the_process_list(tmp_path: Path) -> None:
    (tmp_path / "1").mkdir()
    (tmp_path / "1" / "cmdline").write_bytes(
        b"/usr/bin/tini\0--\0python\0-m\0services.entrypoint\0"
    )
    assert healthcheck.detect_service(tmp_path) is None
    (tmp_path / "7").mkdir()
    (tmp_path / "7" / "cmdline").write_bytes(b"/app/.venv/bin/python\0-m\0services.worker\0")
    assert healthcheck.detect_service(tmp_path) == "worker"


def test_gateway_check_wants_a_recently_used_connection() -> None:
    mine = {"name": "awf.gateway.pod-0.42.abc", "idle": "3"}
    assert healthcheck.check_gateway([mine], "pod-0", 30) is None
    assert "not used Redis for 31 s" in str(
        healthcheck.check_gateway([mine | {"idle": "31"}], "pod-0", 30)
    )
    assert "not connected" in str(healthcheck.check_gateway([mine], "pod-1", 30))


@pytest.fixture
def service_env(redis_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWF_", "REDIS_", "API__"))}
    config = tmp_path / "config.yml"
    config.write_text("{}\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return env | {
        "AWF_ENV": "test",
        "AWF_CONFIG": str(config),
        "REDIS_URL": redis_url,
        "API__PORT": str(port),
        "GATEWAY__DUTY": "heartbeat",
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:9",  # the worker needs one; no job calls it
    }


def probe(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.entrypoint", "health", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


def wait_healthy(env: dict[str, str], *args: str, within_s: float = 20) -> None:
    deadline = time.monotonic() + within_s
    while (result := probe(env, *args)).returncode != 0:
        assert time.monotonic() < deadline, result.stderr
        time.sleep(0.3)
    assert result.stdout.startswith("healthy")


@pytest.fixture
def start(service_env: dict[str, str]) -> Iterator[object]:
    started: list[subprocess.Popen[bytes]] = []

    def run(service: str) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.entrypoint", service],
            env=service_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(proc)
        return proc

    yield run
    for proc in started:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.e2e
@pytest.mark.parametrize("service", ["api", "worker", "gateway"])
def test_the_probe_follows_the_real_service(
    service: str, start: object, service_env: dict[str, str], redis_url: str
) -> None:
    Redis.from_url(redis_url).flushdb()
    assert probe(service_env, service).returncode == 1  # not running yet
    proc = start(service)  # type: ignore[operator]
    wait_healthy(service_env, service)
    if service == "api":
        wait_healthy(service_env, "api", "--ready")
    proc.kill()  # a crash: the probe must notice without any help from the process
    proc.wait(timeout=10)
    if service == "worker":  # its key outlives it by 2 intervals; its going away is the signal
        Redis.from_url(redis_url).delete(healthcheck.worker_health_key(healthcheck.worker_host()))
    failed = probe(service_env, service)
    assert failed.returncode == 1
    assert failed.stderr.startswith(f"unhealthy {service}")
