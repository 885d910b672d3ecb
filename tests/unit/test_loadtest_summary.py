"""The combined report: every bench's rows under the issue's numbering, the table, the counts."""

from __future__ import annotations

import math

import pytest

from loadtest import combined_report
from loadtest.__main__ import selected_benches
from loadtest.bench_discord import SummaryRow
from loadtest.combined_report import BenchOutcome, render
from loadtest.miss_notes import miss_notes
from loadtest.scenario import Row, Section
from loadtest.stats import Goal
from loadtest.summary import (
    discord_lines,
    goal_counts,
    issue_item,
    section_lines,
    summary_markdown,
)
from loadtest.worker_scenario import AbsoluteGoal, absolute_row

RSS = AbsoluteGoal("<=", 150.0, what="RSS", unit="MiB")
P95 = AbsoluteGoal("<=", 50.0, what="p95", unit="ms")


@pytest.mark.parametrize(
    ("bench", "label", "item"),
    [
        ("api", "P1: read path, ours vs the bare floor (c=32)", "P1"),
        ("api", "P7: idle memory per API replica", "P7"),
        ("worker", "P4: job pickup, our queue path vs bare arq", "P4"),
        ("worker", "P5: orchestration overhead per TDD phase", "P6"),
        ("worker", "P6: idle memory per worker process", "P7"),
        ("discord", "D1 /state ACK p99", "P5"),
        ("discord", "D2 failover median", "Extra"),
        ("scale", "Scale-out: 1 to 3 API replicas on one Valkey", "Scale-out"),
    ],
)
def test_issue_item_maps_each_bench_number_to_the_issue(bench: str, label: str, item: str) -> None:
    assert issue_item(bench, label) == item


def test_issue_item_refuses_a_section_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="no issue item"):
        issue_item("worker", "P9: something new")
    with pytest.raises(ValueError, match="no issue item"):
        issue_item("api", "P10: not P1")


def worker_sections() -> list[Section]:
    overhead = absolute_row("P5 overhead per phase p95", 106.8, 4.1, P95)
    info = Row("P5 git per phase p50", "54.2 ms", "7 procs", math.nan, None)
    memory = absolute_row("P6 worker RSS after 10 s idle", 110.5, 36.3, RSS)
    return [
        Section("P5: orchestration overhead per TDD phase", [overhead, info]),
        Section("P6: idle memory per worker process", [memory]),
    ]


def test_section_lines_keep_goal_rows_renumbered_and_drop_info_rows() -> None:
    lines = section_lines("worker", worker_sections())
    assert [(line.item, line.measurement, line.verdict) for line in lines] == [
        ("P6", "overhead per phase p95", "**miss**"),
        ("P7", "worker RSS after 10 s idle", "pass"),
    ]
    assert lines[1].goal == "RSS <= 150 MiB"
    assert lines[1].ratio == pytest.approx(110.5 / 36.3)


def test_p1_and_scale_out_keep_their_context_rows() -> None:
    p1 = Section("P1: read path", [Row("P1 server CPU per request", "1", "1", 1.0, None)])
    scale = Section(
        "Scale-out: 1 to 3", [Row("Scale-out read: 2 replicas vs 1", "2", "1", 2.0, None)]
    )
    lines = section_lines("api", [p1]) + section_lines("scale", [scale])
    assert [(line.item, line.verdict) for line in lines] == [("P1", "info"), ("Scale-out", "info")]
    assert lines[0].measurement == "server CPU per request"


def test_discord_rows_with_a_verdict_become_p5_and_extra() -> None:
    rows = [
        SummaryRow("D1 /state ACK p50", "47.7 ms", "20.1 ms", 2.38, "-", None),
        SummaryRow("D1 /state ACK p99", "102.0 ms", "61.7 ms", 1.65, "<= 250 ms", True),
        SummaryRow("D2 failover max of 5 SIGKILLs", "6,063 ms", "-", math.nan, "<= 10000 ms", True),
    ]
    lines = discord_lines(rows)
    assert [(line.item, line.measurement) for line in lines] == [
        ("P5", "/state ACK p99"),
        ("Extra", "failover max of 5 SIGKILLs"),
    ]


def test_table_is_in_issue_order_and_counts_goals() -> None:
    worker = section_lines("worker", worker_sections())
    p1 = Row.checked("P1 throughput", "1,704 req/s", "1,865 req/s", 0.91, Goal(">=", 0.8))
    api = section_lines("api", [Section("P1: read", [p1])])
    table = summary_markdown(worker + api)
    assert table[0].startswith("| issue | measurement |")
    assert [row.split(" | ")[0] for row in table[2:]] == ["| P1", "| P6", "| P7"]
    assert table[2].endswith("| pass | [api](#api-load-test-results) |")
    assert goal_counts(worker + api) == (2, 3)


def test_combined_report_has_the_count_the_runs_and_the_reproduction() -> None:
    lines = section_lines("worker", worker_sections())
    report = "# Worker-tier results\n\n## P4: pickup\n\n```\n# not a heading\n```\n"
    command = "uv run python -m loadtest.bench_worker"
    outcome = BenchOutcome("worker", command, report, 157.0, "ok", "-")
    text = render([outcome], lines, ["- CPUs: 2"], 160.0, notes=["- P6: why it missed"])
    assert "**1 of 2 goals met**" in text
    assert f"| worker | `{command}` | 157 s | ok |" in text
    assert "## Misses" in text
    assert "uv run python -m loadtest " in text
    details = text.split("# Details", 1)[1]
    assert "\n## Worker-tier results\n" in details
    assert "\n### P4: pickup\n" in details
    assert "\n# not a heading\n" in details


@pytest.mark.parametrize(
    ("only", "benches"),
    [
        (None, ("api", "worker", "discord", "scale")),
        ("", ("api", "worker", "discord", "scale")),
        ("scale, API", ("api", "scale")),
    ],
)
def test_selected_benches_keep_the_run_order(only: str | None, benches: tuple[str, ...]) -> None:
    assert selected_benches(only) == benches


def test_selected_benches_refuse_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown bench nginx"):
        selected_benches("api,nginx")


def test_miss_notes_name_each_miss_and_quote_the_same_items_other_rows() -> None:
    lines = section_lines("worker", worker_sections())
    notes = miss_notes(lines)
    assert notes[0].startswith("- **P6** overhead per phase p95: 106.8 ms (goal p95 <= 50 ms")
    assert any(n.startswith("P6: The worker bench splits") for n in notes)
    assert not any(n.startswith("P7") for n in notes)


def test_no_miss_no_notes() -> None:
    memory = absolute_row("P6 worker RSS", 110.5, 36.3, RSS)
    lines = section_lines("worker", [Section("P6: idle memory", [memory])])
    assert miss_notes(lines) == []


def test_code_version_outside_a_checkout_names_the_given_commit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_git(*args: object, **kwargs: object) -> None:
        raise FileNotFoundError("git")

    monkeypatch.setattr("loadtest.combined_report.subprocess.run", no_git)
    monkeypatch.setenv("AWF_LOADTEST_COMMIT", "0123abcd")
    assert combined_report.code_version() == "commit `0123abcd` (an exported tree)"
    monkeypatch.delenv("AWF_LOADTEST_COMMIT")
    assert combined_report.code_version() == "not a git checkout"
