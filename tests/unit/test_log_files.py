"""``logging.dir``: each process' JSON lines also go to its own file, rotated by time or size,
and files last written more than ``retention_days`` ago are deleted."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from services.api.middleware import EdgeMiddleware
from services.worker.observed import observed
from shared.platform.log_files import (
    LOG_FILE_HANDLERS,
    LogFiles,
    Rotation,
    SizedLogFile,
    TimedLogFile,
    log_file_name,
    parse_rotation,
)
from shared.platform.logging import REDACTED, configure_logging, configure_service_logging
from shared.platform.settings import format_settings_error, load_settings

DAY_S = 86_400


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def files(directory: Path, rotation: str = "daily", retention_days: int = 30) -> LogFiles:
    return LogFiles(directory, parse_rotation(rotation), retention_days)


def our_handler() -> logging.FileHandler:
    (handler,) = [h for h in logging.getLogger().handlers if isinstance(h, LOG_FILE_HANDLERS)]
    assert isinstance(handler, logging.FileHandler)
    return handler


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def all_lines(directory: Path) -> list[dict[str, Any]]:
    return [line for path in sorted(directory.iterdir()) for line in lines(path)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("daily", Rotation("daily")),
        ("Hourly", Rotation("hourly")),
        ("100MB", Rotation("size", 100 << 20)),
        ("512 kb", Rotation("size", 512 << 10)),
        ("2GB", Rotation("size", 2 << 30)),
    ],
)
def test_rotations_allowed(text: str, expected: Rotation) -> None:
    assert parse_rotation(text) == expected


@pytest.mark.parametrize("text", ["weekly", "100", "0MB", "10TB", "-5MB", ""])
def test_other_rotations_are_refused_naming_what_is_allowed(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        load_settings(awf_env="test", logging={"rotation": text})
    assert format_settings_error(caught.value) == (
        f"logging.rotation: rotation {text!r} is not allowed; use daily, hourly, or a size such "
        "as 100MB (units KB, MB, GB)"
    )


def test_each_process_has_its_own_file() -> None:
    assert log_file_name("worker", "pod/7", 42) == "worker-pod_7-42.log"
    assert log_file_name("api").endswith(f"-{os.getpid()}.log")


def test_the_file_gets_json_lines_with_request_ids_even_when_stderr_is_console(
    tmp_path: Path,
) -> None:
    configure_logging("INFO", "console", "api", files=files(tmp_path))

    async def endpoint(request: Request) -> PlainTextResponse:
        structlog.get_logger("awf.test").info("handled", api_key="k")
        return PlainTextResponse("ok")

    app = EdgeMiddleware(Starlette(routes=[Route("/", endpoint)]), max_body_bytes=1024)

    async def call() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await client.get("/", headers={"X-Request-ID": "req-7"})

    asyncio.run(call())
    logging.getLogger("uvicorn.error").warning("from stdlib")
    (path,) = tmp_path.iterdir()
    assert path.name == log_file_name("api")
    handled, stdlib = [line for line in lines(path) if line["logger"] != "httpx"]
    assert (handled["event"], handled["request_id"], handled["service"]) == (
        "handled",
        "req-7",
        "api",
    )
    assert handled["api_key"] == REDACTED
    assert (stdlib["event"], stdlib["level"]) == ("from stdlib", "warning")


async def test_job_lines_carry_the_job_id(tmp_path: Path) -> None:
    configure_logging("INFO", "json", "worker", files=files(tmp_path))

    async def job(ctx: dict[str, Any], project_id: str) -> None:
        structlog.get_logger("awf.test").info("job_ran")

    await observed("test_job", job)({"job_id": "job-9", "job_try": 1}, project_id="p-1")
    (line,) = all_lines(tmp_path)
    assert (line["event"], line["job_id"], line["project_id"]) == ("job_ran", "job-9", "p-1")


def test_size_rotation_keeps_every_line(tmp_path: Path) -> None:
    configure_logging("INFO", "json", "worker", files=files(tmp_path, "1KB"))
    assert isinstance(our_handler(), SizedLogFile)
    for n in range(40):
        structlog.get_logger().info("line", n=n, padding="x" * 50)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) >= 3
    assert log_file_name("worker") in names
    assert all(name.startswith(log_file_name("worker")) for name in names)
    assert sorted(line["n"] for line in all_lines(tmp_path)) == list(range(40))
    rotated = [p for p in tmp_path.iterdir() if p.name != log_file_name("worker")]
    assert all(1024 <= p.stat().st_size < 1024 + 200 for p in rotated)


def test_hourly_rotation_at_the_hour(tmp_path: Path) -> None:
    configure_logging("INFO", "json", "gateway", files=files(tmp_path, "hourly"))
    handler = our_handler()
    assert isinstance(handler, TimedLogFile)
    assert (handler.when, handler.interval, handler.utc) == ("H", 3600, True)
    structlog.get_logger().info("before")
    handler.rolloverAt = int(time.time()) - 1  # the hour has passed
    structlog.get_logger().info("after")
    current = tmp_path / log_file_name("gateway")
    (rotated,) = [p for p in tmp_path.iterdir() if p != current]
    assert rotated.name.startswith(f"{current.name}.")
    assert [line["event"] for line in lines(rotated)] == ["before"]
    assert [line["event"] for line in lines(current)] == ["after"]
    assert handler.rolloverAt > time.time()


def test_daily_rotation_is_at_midnight_utc(tmp_path: Path) -> None:
    configure_logging("INFO", "json", "api", files=files(tmp_path))
    handler = our_handler()
    assert isinstance(handler, TimedLogFile)
    assert (handler.when, handler.utc) == ("MIDNIGHT", True)
    assert handler.rolloverAt % DAY_S == 0


def _aged(path: Path, days: float, text: str = "{}\n") -> Path:
    path.write_text(text)
    then = time.time() - days * DAY_S
    os.utime(path, (then, then))
    return path


def test_old_files_are_deleted_at_start_and_at_each_rotation(tmp_path: Path) -> None:
    old_rotated = _aged(tmp_path / "api-host-1.log.2026-01-01", 8)
    old_current = _aged(tmp_path / "worker-host-2.log", 8)  # a stopped process' file
    recent = _aged(tmp_path / "api-host-1.log.2026-01-05", 6)
    not_ours = _aged(tmp_path / "notes.txt", 30)
    configure_logging("INFO", "json", "api", files=files(tmp_path, "1KB", retention_days=7))
    assert not old_rotated.exists()
    assert not old_current.exists()
    assert recent.exists()
    assert not_ours.exists()
    os.utime(recent, (time.time() - 8 * DAY_S,) * 2)  # it grows old while we run
    for n in range(30):
        structlog.get_logger().info("line", n=n, padding="x" * 50)  # rotates, then prunes
    assert not recent.exists()
    assert not_ours.exists()
    assert (tmp_path / log_file_name("api")).exists()


def test_service_logging_from_settings_and_an_unwritable_dir(tmp_path: Path) -> None:
    settings = load_settings(awf_env="test", logging={"dir": str(tmp_path / "logs")})
    configure_service_logging(settings, "worker")
    structlog.get_logger().info("hello")
    assert [line["event"] for line in all_lines(tmp_path / "logs")] == ["hello"]
    blocker = tmp_path / "file"
    blocker.write_text("")
    bad = load_settings(awf_env="test", logging={"dir": str(blocker / "logs")})
    with pytest.raises(SystemExit, match=r"logging\.dir: cannot write log files in"):
        configure_service_logging(bad, "worker")


def test_without_a_dir_no_file_is_written(tmp_path: Path) -> None:
    configure_service_logging(load_settings(awf_env="test"), "api")
    assert not [h for h in logging.getLogger().handlers if isinstance(h, LOG_FILE_HANDLERS)]
