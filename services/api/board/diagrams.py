"""The Scrum and TDD state diagrams as SVG, drawn from the state machines in `shared/domain`.

Edges come from the command table (`COMMANDS[*].transitions`), the orchestrator's own
transitions (`SYSTEM_EVENTS`) and the phase order (`NEXT_PHASE`), so a change there shows here.
Only the placement of the nodes is chosen here; a state without a place gets one at the end.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from services.api.board.svg import arrow_defs, svg_root, text
from shared.domain.commands import COMMANDS
from shared.domain.models import ScrumState as S
from shared.domain.phases import Phase
from shared.domain.scrum import SYSTEM_EVENTS
from shared.domain.tdd import MAX_ATTEMPTS, NEXT_PHASE

__all__ = ["ScrumEdge", "scrum_diagram", "scrum_edges", "tdd_diagram", "tdd_phases"]

_W, _H, _COL, _ROW, _PAD = 150, 44, 250, 110, 20
_PLACES: dict[S, tuple[int, int]] = {
    S.IDLE: (0, 1),
    S.BACKLOG_READY: (1, 1),
    S.SPRINT_PLANNED: (2, 1),
    S.SPRINT_ACTIVE: (3, 1),
    S.SPRINT_REVIEW: (4, 1),
    S.BLOCKED: (3, 0),
    S.SPRINT_PAUSED: (3, 2),
}


@dataclass(frozen=True)
class ScrumEdge:
    source: S
    target: S
    commands: tuple[str, ...]
    system: bool  # made by the orchestrator, not by a command


def scrum_edges() -> list[ScrumEdge]:
    """Every state change of the Scrum machine, one edge per (from, to) with its commands."""
    by_pair: dict[tuple[S, S], list[str]] = defaultdict(list)
    for command in COMMANDS.values():
        for source, target in command.transitions.items():
            if source != target:
                by_pair[(source, target)].append(command.name)
    edges = [ScrumEdge(a, b, tuple(names), False) for (a, b), names in by_pair.items()]
    for event, moves in SYSTEM_EVENTS.items():
        edges += [ScrumEdge(a, b, (event.value,), True) for a, b in moves.items()]
    return edges


def _places() -> dict[S, tuple[float, float]]:
    extra = [s for s in S if s not in _PLACES]
    grid = {**_PLACES, **{s: (5 + i, 1) for i, s in enumerate(extra)}}
    return {s: (_PAD + c * _COL, _PAD + r * _ROW) for s, (c, r) in grid.items()}


def scrum_diagram(current: S) -> Markup:
    places, edges = _places(), scrum_edges()
    pairs = {(e.source, e.target) for e in edges}
    body = [arrow_defs("plain", "allowed", "system")]
    for edge in edges:
        body.append(_scrum_edge(edge, places, current, (edge.target, edge.source) in pairs))
    for state, (x, y) in places.items():
        cls = "node current" if state is current else "node"
        label = state.value.replace("_", " ")
        body.append(f'<g class="{cls}" data-state="{state.value}">')
        body.append(f'<rect x="{x}" y="{y}" width="{_W}" height="{_H}" rx="8"/>')
        body.append(text(x + _W / 2, y + _H / 2 + 5, label) + "</g>")
    width = max(x for x, _ in places.values()) + _W + _PAD
    height = max(y for _, y in places.values()) + _H + _PAD + 80
    moves = [e for e in edges if e.source is current and not e.system]
    desc = f"Current state {current.value}. " + (
        "Allowed moves: " + "; ".join(f"{'/'.join(e.commands)} to {e.target.value}" for e in moves)
        if moves
        else "No command changes the state from here."
    )
    return svg_root(width, height, f"Scrum state: {current.value}", desc, body, "diagram scrum")


def _scrum_edge(
    edge: ScrumEdge, places: dict[S, tuple[float, float]], current: S, paired: bool
) -> str:
    (x1, y1), (x2, y2) = places[edge.source], places[edge.target]
    kind = "system" if edge.system else "allowed" if edge.source is current else "plain"
    labels = _edge_text(edge)
    if y1 == y2 and (x2 < x1 or abs(x2 - x1) > _COL):
        return _curved(edge, (x1, y1), (x2, y2), kind, " · ".join(labels))
    ax, ay, bx, by = _border_points(x1, y1, x2, y2)
    side = 1 if edge.source.value < edge.target.value else -1
    if paired:  # two edges between the same nodes: keep them apart
        ox, oy = (8 * side, 0) if ax == bx else (0, 8 * side)
        ax, bx, ay, by = ax + ox, bx + ox, ay + oy, by + oy
    line = (
        f'<line x1="{ax:.1f}" y1="{ay:.1f}" x2="{bx:.1f}" y2="{by:.1f}" '
        f'marker-end="url(#arrow-{kind})"/>'
    )
    return _edge_group(edge, kind, line, _labels(labels, ax, ay, bx, by, side))


def _edge_text(edge: ScrumEdge) -> list[str]:
    if edge.system:  # "auto:" over the event's words: narrow enough for the gap
        return ["auto:", *(w for c in edge.commands for w in c.split("_"))]
    return ["/" + c for c in edge.commands]


def _labels(labels: list[str], ax: float, ay: float, bx: float, by: float, side: int) -> list[str]:
    """One line per command: stacked above a horizontal edge, beside a vertical one."""
    mx, my = (ax + bx) / 2, (ay + by) / 2
    if ay == by:
        lines = enumerate(reversed(labels))
        return [text(mx, my - 8 - 14 * i, t, "edge-label") for i, t in lines]
    anchor, dx = ("start", 8) if side > 0 else ("end", -8)
    top = my - 7 * (len(labels) - 1) + 4
    return [text(mx + dx, top + 14 * i, t, "edge-label", anchor) for i, t in enumerate(labels)]


def _edge_group(edge: ScrumEdge, kind: str, shape: str, labels: list[str]) -> str:
    return (
        f'<g class="edge {kind}" data-from="{edge.source.value}" data-to="{edge.target.value}">'
        + shape
        + "".join(labels)
        + "</g>"
    )


def _curved(
    edge: ScrumEdge, a: tuple[float, float], b: tuple[float, float], kind: str, label: str
) -> str:
    """A back edge along the main row: an arc under every lower row, deeper the farther it goes."""
    (x1, y1), (x2, _) = a, b
    lowest = max(y for _, y in _places().values())
    depth = (lowest - y1 + 30) / 0.75 + 40 * abs(x1 - x2) / _COL
    sx, ex, base = x1 + _W / 2, x2 + _W / 2, y1 + _H
    cy = base + depth
    path = f"M{sx:.1f},{base:.1f} C{sx:.1f},{cy:.1f} {ex:.1f},{cy:.1f} {ex:.1f},{base:.1f}"
    shape = f'<path d="{path}" fill="none" marker-end="url(#arrow-{kind})"/>'
    apex = base + depth * 0.75
    return _edge_group(edge, kind, shape, [text((sx + ex) / 2, apex - 6, label, "edge-label")])


def _border_points(x1: float, y1: float, x2: float, y2: float) -> tuple[float, ...]:
    """Where a straight edge leaves one box and enters the other."""
    if y1 == y2:
        left = x2 > x1
        return (x1 + _W if left else x1), y1 + _H / 2, (x2 if left else x2 + _W), y2 + _H / 2
    down = y2 > y1
    return x1 + _W / 2, (y1 + _H if down else y1), x2 + _W / 2, (y2 if down else y2 + _H)


def tdd_phases() -> list[Phase]:
    """The phases in cycle order, walked from DESIGN along `NEXT_PHASE`."""
    order: list[Phase] = []
    phase: Phase | None = Phase.DESIGN
    while phase is not None and phase not in order:
        order.append(phase)
        phase = NEXT_PHASE[phase]
    return order


def _phase_note(phase: str, cycle: dict[str, Any] | None) -> tuple[str, str]:
    """The second line of a phase box and its class, from the cycle's view."""
    if cycle is None:
        return "", "todo"
    seen = cycle["phases"].get(phase) or {}
    if seen.get("skipped"):
        return "skipped", "skipped"
    if seen.get("passed"):
        return "passed ✓", "passed"
    if cycle["phase"] == phase:
        status, attempt = cycle["status"], cycle["attempt"] or 1
        return f"{status} · attempt {attempt}/{MAX_ATTEMPTS}", f"current {status}"
    return "", "todo"


def tdd_diagram(cycle: dict[str, Any] | None) -> Markup:
    """The cycle's phases left to right; passed ones ticked, the current one highlighted."""
    phases = tdd_phases()
    gap, y = 36, _PAD + 26
    body = [arrow_defs("plain")]
    for index, phase in enumerate(phases):
        x = _PAD + index * (_W + gap)
        note, cls = _phase_note(phase.value, cycle)
        body.append(f'<g class="phase {cls}" data-phase="{phase.value}">')
        body.append(f'<rect x="{x}" y="{y}" width="{_W}" height="{_H + 14}" rx="8"/>')
        body.append(text(x + _W / 2, y + 22, phase.value.replace("_", " ")))
        body.append(text(x + _W / 2, y + 42, note, "note") + "</g>")
        if index + 1 < len(phases):
            x2 = x + _W + gap
            body.append(
                f'<g class="edge plain"><line x1="{x + _W}" y1="{y + 29}" x2="{x2}" '
                f'y2="{y + 29}" marker-end="url(#arrow-plain)"/></g>'
            )
    width = _PAD * 2 + len(phases) * _W + (len(phases) - 1) * gap
    legend = f"each gate judges recorded evidence; {MAX_ATTEMPTS} refused attempts block the story"
    body.append(text(_PAD, _PAD + 6, legend, "legend", "start"))
    where = f"in {cycle['phase']} ({cycle['status']})" if cycle else "not started"
    desc = f"TDD cycle {where}. Phases: " + " → ".join(p.value for p in phases)
    return svg_root(width, y + _H + 14 + _PAD, "TDD cycle", desc, body, "diagram tdd")
