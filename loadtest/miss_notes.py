"""What RESULTS.md says under a missed goal: the measurement, and what the run showed of the cause.

A miss is a bug unless the limit is physical; these notes quote the rows of the same run that
tell the two apart (the CPU the floor needed too, the time spent waiting for a core) and name
the report with the breakdown. Pure: built from the summary lines only.
"""

from __future__ import annotations

from collections.abc import Sequence

from loadtest.summary import IssueLine, sort_lines

__all__ = ["miss_notes"]

_WHY = {
    "P1": (
        "Ours is the whole request path the floor leaves out, all of it in one process per "
        "replica: the bearer-token check, one edge middleware (request id, the request's span, "
        "log context, body limit, RED metrics) and the ETag: about 410 Python calls per "
        "request in the ASGI app against the floor's 280 (in-process profile; a server profile "
        "comes from AWF_BENCH_PROFILE_DIR). The verdict is the median of the rounds' paired "
        "ratios (floor and ours run back to back in each round), with the rounds' range beside "
        "it: on a shared 2-core VM the floor's own CPU per request moves by a third between "
        "runs, so one pooled number is a coin flip near the goal. Cut so far: one middleware "
        "instead of three with one header scan, no SDK span while nothing records spans, the "
        "hot single-document reads check the token inline instead of through a second "
        "dependency solve, the docs routes after the API's, the metrics' label children kept, "
        "and the resource routes on the app's own router (FastAPI 0.165 walks into every "
        "included router per request)."
    ),
    "P6": (
        "The worker bench splits each phase's time (its P5 in the worker section below): the overhead "
        "columns exclude the model and the tests but include the wait for a core while pytest, "
        "git and other jobs hold both cores of this box; *less run-queue wait* is the same "
        "overhead without that wait, and *overhead + git* adds the phase's git processes "
        "(fetch, clone from the worker's mirror, status, commit, push; the worker section's "
        "git table gives each one's share). Not changed here: the worker tier's phase "
        "overhead is its own work item."
    ),
}
_DEFAULT = "A miss is a bug unless the limit is physical; the details report has every run."


def miss_notes(lines: Sequence[IssueLine]) -> list[str]:
    """One bullet per missed goal, then one paragraph per item that missed."""
    missed = [line for line in sort_lines(lines) if line.verdict == "**miss**"]
    bullets = [
        f"- **{line.item}** {line.measurement}: {line.ours} (goal {line.goal}; floor "
        f"{line.floor}); details: {line.link}."
        for line in missed
    ]
    items = dict.fromkeys(line.item for line in missed)
    context = [_context(item, lines) for item in items]
    return [*bullets, "", *(c for c in context if c)] if bullets else []


def _context(item: str, lines: Sequence[IssueLine]) -> str:
    quoted = [
        f"{line.measurement} {line.ours} vs {line.floor}"
        for line in lines
        if line.item == item and (line.verdict == "pass" or line.verdict == "info")
    ]
    seen = f" In the same run: {'; '.join(quoted)}." if quoted else ""
    return f"{item}: {_WHY.get(item, _DEFAULT)}{seen}"
