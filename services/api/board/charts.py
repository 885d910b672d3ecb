"""Sprint metrics as server-rendered SVG charts: burndown, velocity and cycle time.

The numbers come from `shared.domain.metrics` (the same pure functions as the sprint review);
here they are only drawn. Each chart has a title and a description for screen readers, and the
page lists the same numbers in a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from services.api.board.svg import svg_root, text

__all__ = ["Bar", "bar_chart", "line_chart"]

_W, _H, _LEFT, _RIGHT, _TOP, _BOTTOM = 640, 260, 48, 16, 20, 48


@dataclass(frozen=True)
class Bar:
    label: str
    values: tuple[float, ...]  # one per series


def _scale(top: float) -> float:
    return top if top > 0 else 1.0


def _y_axis(top: float, unit: str) -> list[str]:
    plot_h = _H - _TOP - _BOTTOM
    parts = [f'<line class="axis" x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_H - _BOTTOM}"/>']
    parts.append(
        f'<line class="axis" x1="{_LEFT}" y1="{_H - _BOTTOM}" x2="{_W - _RIGHT}" '
        f'y2="{_H - _BOTTOM}"/>'
    )
    for step in range(5):
        value = top * step / 4
        y = _H - _BOTTOM - plot_h * step / 4
        parts.append(text(_LEFT - 6, y + 4, f"{value:g}", "tick", "end"))
    parts.append(text(_LEFT, _TOP - 6, unit, "tick", "start"))
    return parts


def line_chart(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    unit: str,
    cls: str,
) -> Markup:
    """One polyline per series over the same x labels (e.g. remaining and ideal per day)."""
    top = _scale(max((v for values in series.values() for v in values), default=0))
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    count = max(len(labels), 1)

    def point(i: int, v: float) -> str:
        x = _LEFT + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)
        return f"{x:.1f},{_H - _BOTTOM - plot_h * v / top:.1f}"

    body = _y_axis(top, unit)
    for index, (name, values) in enumerate(series.items()):
        points = " ".join(point(i, v) for i, v in enumerate(values))
        body.append(f'<polyline class="series s{index}" fill="none" points="{points}"/>')
        body.append(text(_W - _RIGHT, _TOP + 14 * (index + 1), name, f"key s{index}", "end"))
    for i, label in enumerate(_thin(labels, 8)):
        if label:
            x = _LEFT + (plot_w * i / (count - 1) if count > 1 else plot_w / 2)
            body.append(text(x, _H - _BOTTOM + 16, label, "tick"))
    desc = "; ".join(
        f"{name}: " + ", ".join(f"{label} {v:g}" for label, v in zip(labels, values, strict=False))
        for name, values in series.items()
    )
    return svg_root(_W, _H, title, desc if labels else "No data yet.", body, f"chart {cls}")


def bar_chart(
    bars: Sequence[Bar], series: Sequence[str], *, title: str, unit: str, cls: str
) -> Markup:
    """Grouped bars: one group per label, one bar per series."""
    top = _scale(max((v for b in bars for v in b.values), default=0))
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    slot = plot_w / max(len(bars), 1)
    width = max(4.0, min(36.0, slot * 0.8 / max(len(series), 1)))
    body = _y_axis(top, unit)
    for i, bar in enumerate(bars):
        x0 = _LEFT + slot * i + (slot - width * len(bar.values)) / 2
        for k, value in enumerate(bar.values):
            h = plot_h * value / top
            body.append(
                f'<rect class="bar s{k}" x="{x0 + k * width:.1f}" y="{_H - _BOTTOM - h:.1f}" '
                f'width="{width:.1f}" height="{h:.1f}"/>'
            )
        body.append(text(_LEFT + slot * (i + 0.5), _H - _BOTTOM + 16, bar.label[:14], "tick"))
    for k, name in enumerate(series):
        body.append(text(_W - _RIGHT, _TOP + 14 * (k + 1), name, f"key s{k}", "end"))
    desc = "; ".join(
        f"{b.label}: " + ", ".join(f"{n} {v:g}" for n, v in zip(series, b.values, strict=False))
        for b in bars
    )
    return svg_root(_W, _H, title, desc or "No data yet.", body, f"chart {cls}")


def _thin(labels: Sequence[str], keep: int) -> list[str]:
    """At most about `keep` labels, evenly spread, the others blank (the axis stays readable)."""
    if len(labels) <= keep:
        return list(labels)
    step = -(-len(labels) // keep)
    return [
        label if i % step == 0 or i == len(labels) - 1 else "" for i, label in enumerate(labels)
    ]
