"""The board's SVG: diagrams drawn from the state machines (so they cannot drift), charts."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from services.api.board.charts import Bar, bar_chart, line_chart
from services.api.board.diagrams import scrum_diagram, scrum_edges, tdd_diagram, tdd_phases
from shared.domain.commands import COMMANDS
from shared.domain.models import ScrumState
from shared.domain.phases import Phase
from shared.domain.scrum import SYSTEM_EVENTS, allowed_commands
from shared.domain.tdd import NEXT_PHASE

NS = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output


def groups(svg: str, cls: str) -> list[ET.Element]:
    return [g for g in parsed(svg).iter(f"{NS}g") if cls in (g.get("class") or "").split()]


@pytest.mark.parametrize("state", list(ScrumState))
def test_the_scrum_diagram_shows_every_state_and_highlights_the_current(
    state: ScrumState,
) -> None:
    svg = str(scrum_diagram(state))
    nodes = {g.get("data-state"): g.get("class") for g in groups(svg, "node")}
    assert set(nodes) == {s.value for s in ScrumState}
    assert [s for s, cls in nodes.items() if "current" in (cls or "")] == [state.value]
    allowed = {(g.get("data-from"), g.get("data-to")) for g in groups(svg, "allowed")}
    changing = {
        (state.value, c.transitions[state].value)
        for c in COMMANDS.values()
        if c.name in allowed_commands(state) and c.transitions[state] is not state
    }
    assert allowed == changing


def test_every_transition_of_the_tables_is_an_edge() -> None:
    svg = str(scrum_diagram(ScrumState.IDLE))
    drawn = {(g.get("data-from"), g.get("data-to")) for g in groups(svg, "edge")}
    wanted = {
        (a.value, b.value) for c in COMMANDS.values() for a, b in c.transitions.items() if a != b
    }
    wanted |= {(a.value, b.value) for moves in SYSTEM_EVENTS.values() for a, b in moves.items()}
    assert drawn == wanted
    system = {(g.get("data-from"), g.get("data-to")) for g in groups(svg, "system")}
    assert system == {(a.value, b.value) for m in SYSTEM_EVENTS.values() for a, b in m.items()}
    labels = {e.source: e.commands for e in scrum_edges() if not e.system}
    assert "sprint pause" in labels[ScrumState.SPRINT_ACTIVE]


def test_the_tdd_diagram_follows_the_phase_order_and_the_cycle() -> None:
    order = tdd_phases()
    assert order[0] is Phase.DESIGN
    assert [NEXT_PHASE[p] for p in order] == [*order[1:], None]
    cycle = {
        "phase": "CODE_GREEN",
        "status": "running",
        "attempt": 2,
        "phases": {"DESIGN": {"passed": True}, "TEST_RED": {"passed": True}},
    }
    svg = str(tdd_diagram(cycle))
    classes = {g.get("data-phase"): g.get("class") for g in groups(svg, "phase")}
    assert classes == {
        "DESIGN": "phase passed",
        "TEST_RED": "phase passed",
        "CODE_GREEN": "phase current running",
        "REFACTOR": "phase todo",
        "COMMIT": "phase todo",
    }
    assert "running · attempt 2/3" in svg
    assert "in CODE_GREEN (running)" in svg
    assert "not started" in str(tdd_diagram(None))


def test_charts_escape_their_text_and_draw_empty_data() -> None:
    svg = str(
        bar_chart([Bar("<b>x</b>", (3, 1))], ("a&b", "c"), title="T <1>", unit="pts", cls="v")
    )
    root = parsed(svg)
    assert root.find(f"{NS}title") is not None
    assert "<b>" not in svg
    assert len(root.findall(f"{NS}rect")) == 2
    empty = str(line_chart([], {"remaining": []}, title="Burndown", unit="points", cls="b"))
    assert "No data yet." in empty
    parsed(empty)


def test_a_line_chart_places_each_value() -> None:
    svg = str(
        line_chart(
            ["d1", "d2", "d3"],
            {"remaining": [4, 2, 0], "ideal": [4, 2, 0]},
            title="B",
            unit="points",
            cls="b",
        )
    )
    points = re.findall(r'points="([^"]+)"', svg)
    assert len(points) == 2
    ys = [float(p.split(",")[1]) for p in points[0].split()]
    assert ys[0] < ys[1] < ys[2]  # higher value, higher on the page
    assert "remaining: d1 4, d2 2, d3 0" in svg
