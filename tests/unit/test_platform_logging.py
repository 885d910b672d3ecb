from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from shared.platform.logging import REDACTED, configure_logging


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def _json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in capsys.readouterr().err.splitlines()]


def test_json_lines_carry_service_level_and_context(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "json", "api")
    structlog.contextvars.bind_contextvars(request_id="r-1", project_id="p-1")
    structlog.get_logger("awf.test").info("story_started", story_id="s-1")
    structlog.get_logger("awf.test").debug("hidden")
    (line,) = _json_lines(capsys)
    assert line["event"] == "story_started"
    assert (line["service"], line["level"], line["logger"]) == ("api", "info", "awf.test")
    assert (line["request_id"], line["project_id"], line["story_id"]) == ("r-1", "p-1", "s-1")
    assert line["timestamp"].endswith("Z")


def test_credentials_are_redacted_at_any_depth(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json", "worker")
    structlog.get_logger().info(
        "call",
        token="t0k",
        bot_token="b0t",
        jwt_secret="s3c",
        password="pw",
        api_key="k",
        headers={"Authorization": "Bearer x", "x-api-key": "k2", "accept": "json"},
        input_tokens=1200,
        token_ttl_hours=720,
    )
    (line,) = _json_lines(capsys)
    for key in ("token", "bot_token", "jwt_secret", "password", "api_key"):
        assert line[key] == REDACTED
    assert line["headers"] == {"Authorization": REDACTED, "x-api-key": REDACTED, "accept": "json"}
    assert line["input_tokens"] == 1200  # usage counts are not credentials
    assert line["token_ttl_hours"] == REDACTED  # named like one: better safe


def test_configuring_twice_keeps_one_handler_and_the_last_format(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = len(logging.getLogger().handlers)
    configure_logging("INFO", "json", "api")
    configure_logging("WARNING", "console", "cli")
    assert len(logging.getLogger().handlers) == before + 1
    logging.getLogger("uvicorn.error").warning("from stdlib")
    structlog.get_logger().info("below the level")
    err = capsys.readouterr().err
    assert "from stdlib" in err
    assert "below the level" not in err
    assert not err.lstrip().startswith("{")
