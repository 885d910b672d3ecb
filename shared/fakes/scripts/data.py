"""Data role: narrate the sprint metrics found in the task's text."""

from __future__ import annotations

import re

from shared.fakes.scripts.context import ScriptContext, Step, finish

__all__ = ["data_step", "narrate"]

_METRIC = re.compile(r"([A-Za-z][\w ]{0,40}?)\s*[:=]\s*(-?\d+(?:\.\d+)?%?)")


def narrate(text: str) -> str:
    """A short summary of every ``name: number`` (or ``name=number``) pair in the text."""
    body = re.sub(r"<task>.*?</task>", " ", text, flags=re.DOTALL)
    metrics = list(dict.fromkeys((n.strip(), v) for n, v in _METRIC.findall(body)))
    if not metrics:
        return "Sprint summary: no metrics were given, so there is nothing to report yet."
    listed = "; ".join(f"{name} {value}" for name, value in metrics[:12])
    return (
        f"Sprint summary: {listed}. "
        f"{len(metrics)} figure(s) in all; the team should look first at the largest changes."
    )


def data_step(ctx: ScriptContext) -> Step:
    return finish(narrate(ctx.prompt))
