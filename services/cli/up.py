"""`awf up`: run the stack in the foreground until Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import time
from typing import Annotated

import typer
from rich.table import Table

from services.cli import output
from services.cli.processes import ApiProcess, Shutdown, stop_signals
from services.cli.session import (
    Session,
    pid_alive,
    read_session,
    remove_session,
    session_path,
    state_dir,
    write_session,
)
from services.cli.stack import Stack, StackError
from shared.platform.embedded_redis import EmbeddedRedisError

__all__ = ["Shutdown", "session_for", "status_table", "up"]


def up(
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="First API port.")] = 8000,
    replicas: Annotated[int, typer.Option("--replicas", min=1, max=32, help="API processes.")] = 1,
    host: Annotated[str, typer.Option("--host", help="Interface the API binds to.")] = "127.0.0.1",
    workers: Annotated[
        int, typer.Option("--workers", min=0, max=32, help="Agent worker processes (0: none).")
    ] = 1,
) -> None:
    """Start Redis (embedded unless REDIS_URL is set), the API and the agent workers (with a
    local scripted model when ANTHROPIC_API_KEY is unset); Ctrl-C stops everything."""
    _refuse_if_running()
    stack = Stack(
        state_dir(),
        host=host,
        port=port,
        replicas=replicas,
        redis_url=os.environ.get("REDIS_URL"),
        workers=workers,
    )
    code = 0
    with stop_signals():
        try:
            code = _run(stack)
        except (KeyboardInterrupt, Shutdown):
            pass
        finally:
            output.err_console.print("[dim]stopping…[/dim]")
            stack.stop()
            remove_session()
    output.err_console.print("[dim]stopped[/dim]")
    raise typer.Exit(code)


def _run(stack: Stack) -> int:
    try:
        with output.err_console.status("starting the stack…"):
            stack.start()
    except (StackError, EmbeddedRedisError) as exc:
        output.error(str(exc))
        return 1
    write_session(session_for(stack))
    output.out.print(status_table(stack))
    output.out.print(
        f"Session: {session_path()}\nTry: [cyan]awf project register <path-to-git-repo>[/cyan]"
        "   ·   Ctrl-C stops everything."
    )
    return _watch(stack)


def _watch(stack: Stack) -> int:
    while True:
        time.sleep(0.5)
        dead = stack.dead()
        if dead:
            child = dead[0]
            name = f"API on port {child.port}" if isinstance(child, ApiProcess) else child.name
            output.error(f"{name} exited; last output:\n{child.log_tail()}")
            return 1


def session_for(stack: Stack) -> Session:
    return Session(
        api_url=stack.api_url,
        api_urls=stack.api_urls,
        token=stack.admin_token(),
        redis_url=stack.redis_url,
        pids={"awf": os.getpid(), **stack.pids},
        jwt_secret=stack.jwt_secret if stack.generated_secret else None,
    )


def status_table(stack: Stack) -> Table:
    table = Table(title="awf stack")
    for column in ("service", "pid", "url", "status"):
        table.add_column(column)
    if stack.redis is not None:
        table.add_row(
            "redis (embedded)", str(stack.redis.pid), stack.redis_url, "[green]ready[/green]"
        )
    else:
        table.add_row("redis (REDIS_URL)", "-", _redacted(stack.redis_url), "external")
    for api in stack.apis:
        table.add_row(f"api :{api.port}", str(api.process.pid), api.url, "[green]ready[/green]")
    agents = stack.agents
    if agents.model is not None:
        model = f"{agents.model_url} (scripted; set ANTHROPIC_API_KEY for Claude)"
        table.add_row("model (local)", str(agents.model.process.pid), model, "[green]ready[/green]")
    for worker in agents.children:
        table.add_row(worker.name, str(worker.process.pid), "-", "[green]running[/green]")
    return table


def _refuse_if_running() -> None:
    session = read_session()
    if session is None:
        return
    owner = session.pids.get("awf")
    if owner is not None and owner != os.getpid() and pid_alive(owner):
        output.error(
            f"`awf up` is already running (pid {owner}, API {session.api_url}); "
            "stop it first, or use it."
        )
        raise typer.Exit(1)
    remove_session()  # left behind by a stack that did not stop cleanly


def _redacted(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}{rest.rpartition('@')[2]}" if "@" in rest else url
