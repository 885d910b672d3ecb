"""`awf health`'s verdict: required components must be ok; optional ones fail only when broken."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from services.cli.health import (
    ALWAYS_REQUIRED,
    Row,
    _configured_interval,
    health_table,
    judge,
    watch_health,
)
from services.cli.health_checks import Check, Status
from shared.platform.settings import MonitoringSettings


def checks(worker: Status, discord: Status) -> list[Check]:
    return [
        Check("api", Status.OK, "ready"),
        Check("redis", Status.OK, "read/write"),
        Check("worker", worker, "..."),
        Check("discord", discord, "..."),
    ]


def failing(rows: list[Row]) -> list[str]:
    return [r.check.component for r in rows if r.status is Status.FAIL]


def test_optional_components_may_be_absent_or_unknown() -> None:
    rows = judge(checks(Status.ABSENT, Status.UNKNOWN), ALWAYS_REQUIRED)
    assert failing(rows) == []


def test_a_required_component_that_is_absent_or_unknown_fails() -> None:
    required = ALWAYS_REQUIRED | {"worker", "discord"}
    rows = judge(checks(Status.ABSENT, Status.UNKNOWN), required)
    assert failing(rows) == ["worker", "discord"]
    assert rows[2].as_json()["status"] == "fail"
    assert rows[2].as_json()["required"] is True


def test_a_broken_optional_component_fails() -> None:
    rows = judge(checks(Status.OK, Status.FAIL), ALWAYS_REQUIRED)
    assert failing(rows) == ["discord"]


def test_the_table_marks_optional_rows() -> None:
    console = Console(width=120, record=True, color_system=None)
    console.print(health_table(judge(checks(Status.ABSENT, Status.OK), ALWAYS_REQUIRED)))
    text = console.export_text()
    assert "worker (optional)" in text
    assert "absent" in text
    assert "api " in text


def test_watch_checks_every_interval_until_ctrl_c_and_keeps_the_last_verdict() -> None:
    verdicts = iter([["worker"], [], ["api"]])
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 3:
            raise KeyboardInterrupt

    assert watch_health(lambda: next(verdicts), 7.5, sleep) == ["api"]
    assert slept == [7.5, 7.5, 7.5]


def test_watch_defaults_to_the_health_check_interval(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "config.yml").write_text("monitoring: {health_check_interval: 42}\n")
    monkeypatch.setenv("AWF_CONFIG", str(tmp_path / "config.yml"))
    monkeypatch.setenv("AWF_ENV", "test")
    assert _configured_interval() == 42
    monkeypatch.setenv("AWF_ENV", "production")  # no JWT_SECRET here: the settings do not load
    monkeypatch.delenv("JWT_SECRET", raising=False)
    assert _configured_interval() == MonitoringSettings().health_check_interval
