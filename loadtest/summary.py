"""The combined summary: every bench's rows under the issue's numbering (P1-P7, scale-out).

The benches keep their own labels (the worker bench calls its phase overhead P5 and its memory
P6; the Discord bench calls the ACK latency D1); this module maps each section to the issue's
item, strips the bench's own number from the label and keeps the rows that carry a goal, plus
the context rows of P1 and of the scale-out. Pure: no I/O, no clock.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loadtest.bench_discord import SummaryRow
    from loadtest.scenario import Row, Section

__all__ = [
    "ANCHORS",
    "ITEMS",
    "IssueLine",
    "discord_lines",
    "goal_counts",
    "issue_item",
    "section_lines",
    "sort_lines",
    "summary_markdown",
]

ITEMS = ("P1", "P2", "P3", "P4", "P5", "P6", "P7", "Scale-out", "Extra")
# bench -> its own section number -> the issue's item
_ITEM_OF = {
    "api": {"P1": "P1", "P2": "P2", "P3": "P3", "P7": "P7"},
    "worker": {"P4": "P4", "P5": "P6", "P6": "P7"},
    "scale": {"Scale-out": "Scale-out"},
    "discord": {"D1": "P5", "D2": "Extra"},
}
# each bench's report goes into RESULTS.md under its own title, one heading level down
ANCHORS = {
    "api": "api-load-test-results",
    "worker": "worker-tier-results",
    "discord": "discord-load-test-results",
    "scale": "scale-out-results",
}
_WITH_CONTEXT = frozenset({"P1", "Scale-out"})  # items whose info rows also go in the summary
_OWN_NUMBER = re.compile(r"^(?:(?:P|D)\d+|Scale-out)\s+")


@dataclass(frozen=True)
class IssueLine:
    item: str
    measurement: str
    ours: str
    floor: str
    ratio: float
    goal: str
    verdict: str  # "pass", "**miss**" or "info"
    bench: str  # api, worker, discord or scale: its full report is a section of RESULTS.md

    def cells(self) -> list[str]:
        shown = "-" if math.isnan(self.ratio) else f"{self.ratio:.2f}"
        return [self.item, self.measurement, self.ours, self.floor, shown, self.goal]

    def row(self) -> str:
        return "| " + " | ".join([*self.cells(), self.verdict, self.link]) + " |"

    @property
    def link(self) -> str:
        return f"[{self.bench}](#{ANCHORS[self.bench]})"


def issue_item(bench: str, own_label: str) -> str:
    """The issue's item of a section or row title such as `P5: ...` or `D1 /state ACK p99`."""
    mapping = _ITEM_OF[bench]
    for own, item in mapping.items():
        if own_label == own or own_label.startswith((f"{own}:", f"{own} ")):
            return item
    raise ValueError(f"{bench} bench: no issue item for {own_label!r}")


def _strip(label: str) -> str:
    return _OWN_NUMBER.sub("", label, count=1)


def section_lines(bench: str, sections: Iterable[Section]) -> list[IssueLine]:
    lines = []
    for section in sections:
        item = issue_item(bench, section.title)
        lines += [
            _from_row(item, row, bench)
            for row in section.rows
            if row.goal is not None or item in _WITH_CONTEXT
        ]
    return lines


def _from_row(item: str, row: Row, bench: str) -> IssueLine:
    goal = "-" if row.goal is None else str(row.goal)
    return IssueLine(
        item, _strip(row.benchmark), row.ours, row.floor, row.ratio, goal, row.verdict, bench
    )


def discord_lines(rows: Iterable[SummaryRow]) -> list[IssueLine]:
    return [
        IssueLine(
            issue_item("discord", row.measurement),
            _strip(row.measurement),
            row.value,
            row.floor,
            row.ratio,
            row.goal,
            "info" if row.met is None else ("pass" if row.met else "**miss**"),
            "discord",
        )
        for row in rows
        if row.met is not None
    ]


def sort_lines(lines: Iterable[IssueLine]) -> list[IssueLine]:
    """By the issue's item, keeping each bench's own order within an item."""
    return sorted(lines, key=lambda line: ITEMS.index(line.item))


def goal_counts(lines: Sequence[IssueLine]) -> tuple[int, int]:
    """(goals met, goals judged)."""
    judged = [line for line in lines if line.verdict != "info"]
    return sum(1 for line in judged if line.verdict == "pass"), len(judged)


def summary_markdown(lines: Sequence[IssueLine]) -> list[str]:
    return [
        "| issue | measurement | ours | floor | ratio | goal | pass/miss | details |",
        "| --- | --- | ---: | ---: | ---: | --- | --- | --- |",
        *(line.row() for line in sort_lines(lines)),
    ]
