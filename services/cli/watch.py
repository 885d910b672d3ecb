"""`awf watch`: a live view of a project's sprint, story by story (phase, attempts, tests, tokens).

It polls the API (`state` and `tdd overview`), so it works against any stack and any replica.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from services.cli import output
from services.cli.client import ApiClient
from services.cli.context import CliState, call, resolve_project
from shared.domain.commands import COMMANDS

__all__ = ["overview_table", "watch", "watch_sprint"]

_DONE_STATES = frozenset({"SPRINT_REVIEW", "IDLE", "BACKLOG_READY"})
_STOP_STATES = frozenset({"BLOCKED", "SPRINT_PAUSED"})
_STATUS_STYLE = {
    "done": "green",
    "running": "cyan",
    "queued": "dim",
    "blocked": "red",
    "paused": "yellow",
    "waiting": "yellow",
    "aborted": "red",
}


def watch(
    ctx: typer.Context,
    timeout: Annotated[
        float, typer.Option("--timeout", min=1, help="Give up after this many seconds.")
    ] = 3600.0,
    interval: Annotated[
        float, typer.Option("--interval", min=0.2, help="Seconds between polls.")
    ] = 1.0,
) -> None:
    """Follow the current sprint live until it reaches review (or blocks); Ctrl-C to leave."""
    state = ctx.ensure_object(CliState)

    def follow(client: ApiClient) -> str:
        return watch_sprint(client, resolve_project(state, client), timeout, interval)

    try:
        final = call(state, follow)
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    raise typer.Exit(0 if final in _DONE_STATES else 1)


def watch_sprint(client: ApiClient, project_id: str, timeout_s: float, interval_s: float) -> str:
    """Follow until the project leaves SPRINT_ACTIVE for good; returns the last state.

    On a terminal the table is redrawn in place; piped (a log, CI, `tee`), each change is a
    line of its own as it happens and the final table follows."""
    if not output.out.is_terminal:
        return _follow_in_lines(client, project_id, timeout_s, interval_s)
    deadline = time.monotonic() + timeout_s
    scrum_state = ""
    with Live(console=output.out, refresh_per_second=4, transient=False) as live:
        while time.monotonic() < deadline:
            scrum_state, overview = _poll(client, project_id)
            live.update(_view(project_id, scrum_state, overview))
            if _settled(scrum_state):
                break
            time.sleep(interval_s)
    return scrum_state


def _follow_in_lines(
    client: ApiClient, project_id: str, timeout_s: float, interval_s: float
) -> str:
    deadline = time.monotonic() + timeout_s
    scrum_state = ""
    overview: dict[str, Any] = {}
    printed: dict[str, str] = {}
    while time.monotonic() < deadline:
        scrum_state, overview = _poll(client, project_id)
        lines = {"": _head(project_id, scrum_state, overview).plain}
        lines |= {str(row["story_id"]): _row_line(row) for row in overview.get("rows") or []}
        for key, line in lines.items():
            if printed.get(key) != line:
                output.out.print(line, soft_wrap=True, markup=False)
                printed[key] = line
        if _settled(scrum_state):
            break
        time.sleep(interval_s)
    output.out.print(overview_table(overview.get("rows") or []))
    return scrum_state


def _settled(scrum_state: str) -> bool:
    return scrum_state in _DONE_STATES or scrum_state in _STOP_STATES


def _row_line(row: dict[str, Any]) -> str:
    status = str(row.get("status") or row.get("story_status") or "")
    phase, attempt = row.get("phase") or "-", row.get("attempt") or "-"
    line = f"  {row['story_id']} {str(row['title'])[:40]!r}: {phase} {status}, attempt {attempt}"
    line += f", tests {_tests(row)}, {row.get('tokens') or 0:,} tokens"
    refusal = str(row.get("last_refusal") or "")[:60]
    return line + (f", last refusal: {refusal}" if refusal else "")


def _poll(client: ApiClient, project_id: str) -> tuple[str, dict[str, Any]]:
    state = client.run(COMMANDS["state"], {}, project_id)
    overview = client.run(COMMANDS["tdd overview"], {}, project_id)
    return str(state["result"]["state"]), dict(overview["result"])


def _view(project_id: str, scrum_state: str, overview: dict[str, Any]) -> Group:
    head = _head(project_id, scrum_state, overview)
    return Group(head, overview_table(overview.get("rows") or []))


def _head(project_id: str, scrum_state: str, overview: dict[str, Any]) -> Text:
    counts = ", ".join(f"{n} {s}" for s, n in sorted((overview.get("counts") or {}).items()))
    return Text.assemble((f"{project_id}", "bold"), "  ", (scrum_state, "magenta"), f"   {counts}")


def overview_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(expand=False)
    for column in (
        "story",
        "title",
        "phase",
        "status",
        "attempt",
        "tests",
        "tokens",
        "last refusal",
    ):
        table.add_column(column, overflow="fold")
    for row in rows:
        status = str(row.get("status") or row.get("story_status") or "")
        table.add_row(
            str(row["story_id"]),
            str(row["title"])[:40],
            str(row.get("phase") or "-"),
            Text(status, style=_STATUS_STYLE.get(status, "")),
            str(row.get("attempt") or "-"),
            _tests(row),
            f"{row.get('tokens') or 0:,}",
            str(row.get("last_refusal") or "")[:60],
        )
    return table


def _tests(row: dict[str, Any]) -> str:
    passed, failed = row.get("tests_passed"), row.get("tests_failed")
    if passed is None:
        return "-"
    return f"{passed} passed" + (f", {failed} failing" if failed else "")
