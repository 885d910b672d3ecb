"""`awf health`: one row per component (status, detail); exit 0 when healthy, 1 naming what is not.

Always required: the API (every replica answers ``/readyz``, so each reaches Redis) and Redis
(a write and a read from here, timed). Requirable unless named with ``--require``: the workers
(none running is how an idle queue scales to zero) and Discord (not configured when no gateway
runs). An optional component that runs but is broken still fails: gateway pods with no leader.
``--watch`` checks again every ``monitoring.health_check_interval`` seconds (or ``--interval``)
until Ctrl-C, and exits as the last check found.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from redis import Redis
from rich.markup import escape
from rich.table import Table

from services.cli import output
from services.cli.context import CliState
from services.cli.health_checks import (
    Check,
    Status,
    check_api,
    check_discord,
    check_redis,
    check_workers,
)
from services.cli.redis_target import EXIT_FAILED, RedisUrlOption, find_redis_url
from services.cli.session import read_session
from shared.platform.settings import MonitoringSettings, load_settings

__all__ = ["Requirable", "Row", "health", "judge", "run_checks", "watch_health"]

ALWAYS_REQUIRED = frozenset({"api", "redis"})
_STYLE = {
    Status.OK: "green",
    Status.FAIL: "bold red",
    Status.ABSENT: "dim",
    Status.UNKNOWN: "yellow",
}


class Requirable(StrEnum):
    """Components checked always but required only on request."""

    WORKER = "worker"
    DISCORD = "discord"


@dataclass(frozen=True)
class Row:
    check: Check
    required: bool

    @property
    def status(self) -> Status:
        """A required component that is absent or could not be looked at fails."""
        if self.required and self.check.status in (Status.ABSENT, Status.UNKNOWN):
            return Status.FAIL
        return self.check.status

    def as_json(self) -> dict[str, Any]:
        c = self.check
        return {
            "component": c.component,
            "status": self.status.value,
            "required": self.required,
            "detail": c.detail,
            "data": c.data,
        }


def health(
    ctx: typer.Context,
    api_url: Annotated[
        list[str] | None,
        typer.Option(
            "--api-url",
            help="An API replica to check (repeatable; default: awf --api-url, else `awf up`'s).",
            show_default=False,
        ),
    ] = None,
    redis_url: RedisUrlOption = None,
    require: Annotated[
        list[Requirable] | None,
        typer.Option(
            "--require",
            help="Also require this component (repeatable): worker, discord.",
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds per probe before it fails.")
    ] = 3.0,
    watch: Annotated[
        bool, typer.Option("--watch", help="Check again every --interval seconds until Ctrl-C.")
    ] = False,
    interval: Annotated[
        float | None,
        typer.Option(
            "--interval",
            min=0.5,
            help="Seconds between checks with --watch (default: monitoring.health_check_interval).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check the API, Redis, the workers and Discord; exit 1 naming what is unhealthy."""
    state = ctx.ensure_object(CliState)
    urls, redis_target = api_url or _api_urls(state), find_redis_url(redis_url)
    required = ALWAYS_REQUIRED | {r.value for r in require or []}

    def check_once() -> list[str]:
        rows = judge(run_checks(urls, redis_target, timeout), required)
        return _report(rows, json_output=json_output or state.json_output)

    if watch:
        failing = watch_health(check_once, interval or _configured_interval(), time.sleep)
    else:
        failing = check_once()
    if failing:
        output.error(f"unhealthy: {', '.join(failing)}")
        raise typer.Exit(EXIT_FAILED)


def watch_health(
    check: Callable[[], list[str]], interval_s: float, sleep: Callable[[float], None]
) -> list[str]:
    """Run ``check`` now and every ``interval_s`` until Ctrl-C; what the last one found failing."""
    failing: list[str] = []
    try:
        while True:
            output.err_console.print(
                f"[dim]{datetime.now():%H:%M:%S} (every {interval_s:g} s)[/dim]"
            )
            failing = check()
            sleep(interval_s)
    except KeyboardInterrupt:
        return failing


def _configured_interval() -> float:
    """``monitoring.health_check_interval``; its default when the settings do not load here."""
    try:
        return load_settings().monitoring.health_check_interval
    except (ValidationError, OSError, ValueError):
        return MonitoringSettings().health_check_interval


def _report(rows: list[Row], *, json_output: bool) -> list[str]:
    failing = [r.check.component for r in rows if r.status is Status.FAIL]
    if json_output:
        output.print_json({"healthy": not failing, "failing": failing, "components": _json(rows)})
    else:
        output.out.print(health_table(rows))
    return failing


def run_checks(api_urls: Sequence[str], redis_url: str | None, timeout_s: float) -> list[Check]:
    checks = [check_api(api_urls, timeout_s)]
    if redis_url is None:
        missing = "no Redis to check: pass --redis-url, set REDIS_URL, or run `awf up`"
        return [*checks, Check("redis", Status.FAIL, missing), *_not_checked("no Redis")]
    redis = Redis.from_url(
        redis_url,
        client_name="awf-cli-health",
        decode_responses=True,
        socket_timeout=timeout_s,
        socket_connect_timeout=timeout_s,
    )
    try:
        checks.append(check_redis(redis))
        if checks[-1].status is not Status.OK:
            return [*checks, *_not_checked("Redis is unreachable")]
        return [*checks, check_workers(redis), check_discord(redis)]
    finally:
        redis.close()


def judge(checks: Iterable[Check], required: Set[str]) -> list[Row]:
    return [Row(c, c.component in required) for c in checks]


def health_table(rows: Iterable[Row]) -> Table:
    table = Table("component", "status", "detail", title="awf health", title_justify="left")
    for row in rows:
        style = _STYLE[row.status]
        name = row.check.component + ("" if row.required else " (optional)")
        table.add_row(name, f"[{style}]{row.status.value}[/{style}]", escape(row.check.detail))
    return table


def _api_urls(state: CliState) -> list[str]:
    if state.api_url:
        return [state.api_url]
    session = read_session()
    return (session.api_urls or [session.api_url]) if session else []


def _not_checked(why: str) -> list[Check]:
    return [Check(name.value, Status.UNKNOWN, f"not checked: {why}") for name in Requirable]


def _json(rows: Iterable[Row]) -> list[dict[str, Any]]:
    return [row.as_json() for row in rows]
