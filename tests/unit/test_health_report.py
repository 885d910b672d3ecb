"""`awf health`'s verdict: required components must be ok; optional ones fail only when broken."""

from __future__ import annotations

from rich.console import Console

from services.cli.health import ALWAYS_REQUIRED, Row, health_table, judge
from services.cli.health_checks import Check, Status


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
