"""`awf demo`: a private stack, a sample git repository, and a Scrum walk printed step by step.

Each step is one function taking the `DemoRun`; `STEPS` is their order. Later work (agents that
run once the sprint starts) adds steps after `sprint_start` without touching the others.
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import typer
from rich.markup import escape

from services.cli import output
from services.cli.client import ApiError, ApiUnreachable
from services.cli.demo_agents import DemoStalled
from services.cli.demo_steps import STEPS, DemoRun, Step
from services.cli.discord_tier import FakeInfo
from services.cli.processes import Shutdown, stop_signals
from services.cli.sample_repo import make_sample_repo
from services.cli.session import state_dir
from services.cli.stack import Stack, StackError, free_port
from shared.platform.embedded_redis import EmbeddedRedisError

__all__ = ["demo", "run_demo", "run_steps"]


def demo() -> None:
    """Walk a sample project through Scrum on a private, throwaway stack (needs nothing running);
    Discord is a local fake, the gateway's bot talks to it and its channel is printed at the end."""
    with stop_signals():
        try:
            code = run_demo()
        except (KeyboardInterrupt, Shutdown) as exc:
            output.error(f"interrupted ({exc or 'SIGINT'}); the private stack was stopped")
            code = 130
    raise typer.Exit(code)


def run_demo(steps: list[Step] | None = None, repo_parent: Path | None = None) -> int:
    """Start a private stack in a temp dir, run ``steps`` (default `STEPS`), stop; an exit code.

    The sample repository is kept (under the state dir unless `repo_parent` is given) so the
    agents' branches can be inspected afterwards."""
    repo = make_sample_repo(_repo_path(repo_parent or state_dir() / "demo"))
    with tempfile.TemporaryDirectory(prefix="awf-demo-") as tmp:
        root = Path(tmp)
        stack = Stack(
            root / "state",
            port=free_port(),
            appendonly=False,
            jwt_secret=secrets.token_urlsafe(48),
            env={"AWF_ENV": "dev"},
            workers=_WORKERS,
            fake_discord=True,
            ready_timeout=_READY_TIMEOUT_S,
        )
        try:
            with output.err_console.status("starting a private stack…"):
                stack.start()
            _print_stack(stack)
            token = stack.admin_token(timedelta(hours=1), subject="demo")
            discord = _fake_discord(stack)
            code = run_steps(DemoRun.connect(stack.api_url, token, discord, repo), steps or STEPS)
        except (StackError, EmbeddedRedisError) as exc:
            output.error(str(exc))
            code = 1
        except DemoStalled as exc:
            output.error(f"{exc}\n{_child_logs(stack)}")
            code = 1
        finally:
            with output.err_console.status("stopping the private stack…"):
                stack.stop()
    output.out.print(f"[dim]private stack stopped; the sample repository stays at[/dim] {repo}")
    return code


_WORKERS = 2
_READY_TIMEOUT_S = 60.0  # a busy 2-core machine starts the stack's seven processes slowly


def _repo_path(parent: Path) -> Path:
    return parent / f"calculator-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def _print_stack(stack: Stack) -> None:
    discord = _fake_discord(stack)
    output.out.print(
        f"[dim]private stack: API {stack.api_url}, Redis {stack.redis_url}, {_WORKERS} workers, a gateway "
        f"pod on a local fake Discord at {discord.base_url} (always the fake: the demo never "
        "contacts Discord)[/dim]"
    )


def _fake_discord(stack: Stack) -> FakeInfo:
    if stack.discord is None or stack.discord.info is None:
        raise StackError("the fake Discord did not start")
    return stack.discord.info


def _child_logs(stack: Stack) -> str:
    children = [*stack.agents.children, *(stack.discord.children if stack.discord else [])]
    return "\n".join(f"--- {c.name}\n{c.log_tail(15)}" for c in children)


def run_steps(run: DemoRun, steps: list[Step]) -> int:
    """Run each step under a heading; the first API error ends the demo with exit code 1."""
    with run.client, contextlib.closing(run.discord):
        for number, step in enumerate(steps, start=1):
            output.out.rule(f"[bold]{number}. {step.title}[/bold]")
            output.out.print(f"[dim]{escape(step.prompt)} {escape(step.cli)}[/dim]")
            try:
                step.run(run)
            except ApiUnreachable as exc:
                output.error(str(exc))
                return 1
            except httpx.HTTPError as exc:
                output.error(f"the fake Discord did not answer: {exc}")
                return 1
            except ApiError as exc:
                output.api_error(exc.status_code, exc.body)
                return 1
    output.out.rule()
    output.success("Demo walk complete.")
    return 0
