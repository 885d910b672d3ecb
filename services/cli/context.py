"""The root options (`--api-url`, `--token`, `--project`, `--json`) and what they resolve to.

Missing url/token come from the session file `awf up` writes; a missing project is the only
registered one when there is exactly one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import typer

from services.cli import output
from services.cli.client import ApiClient, ApiError, ApiUnreachable
from services.cli.session import read_session, session_path
from shared.domain.commands import COMMANDS

__all__ = [
    "EXIT_SERVER",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "CliState",
    "api_errors",
    "call",
    "open_client",
    "resolve_project",
    "usage_error",
]

EXIT_SERVER = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
T = TypeVar("T")


@dataclass
class CliState:
    """What the root callback parsed; tests pass one as ``obj`` to inject a transport."""

    api_url: str | None = None
    token: str | None = None
    project: str | None = None
    json_output: bool = False
    transport: httpx.BaseTransport | None = None


def usage_error(message: str) -> typer.Exit:
    output.error(message)
    return typer.Exit(EXIT_USAGE)


def open_client(state: CliState) -> ApiClient:
    """A client for the given url/token, falling back to the `awf up` session file."""
    session = None if (state.api_url and state.token) else read_session()
    api_url = state.api_url or (session.api_url if session else None)
    token = state.token or (session.token if session else None)
    if api_url is None:
        output.error(
            f"No running stack found ({session_path()} is missing). "
            "Run `awf up` first, or pass --api-url and --token (AWF_API_URL, AWF_TOKEN)."
        )
        raise typer.Exit(EXIT_UNREACHABLE)
    return ApiClient(api_url, token, transport=state.transport)


@contextmanager
def api_errors(state: CliState) -> Iterator[None]:
    """Print API errors the user's way and exit 1 (server said no) or 3 (no server)."""
    try:
        yield
    except ApiUnreachable as exc:
        output.error(
            f"Cannot reach the API at {exc.url}. Is the stack running? Start it with `awf up`."
        )
        raise typer.Exit(EXIT_UNREACHABLE) from None
    except ApiError as exc:
        if state.json_output:
            output.print_json(exc.body)
        else:
            output.api_error(exc.status_code, exc.body)
        raise typer.Exit(EXIT_SERVER) from None


def call(state: CliState, action: Callable[[ApiClient], T]) -> T:
    with api_errors(state), open_client(state) as client:
        return action(client)


def resolve_project(state: CliState, client: ApiClient) -> str:
    """``--project``, else the only registered project; a usage error otherwise."""
    if state.project:
        return state.project
    listing: dict[str, Any] = client.run(COMMANDS["project list"], {"limit": 2})
    projects = listing.get("result", {}).get("projects", [])
    total = int(listing.get("result", {}).get("total", len(projects)))
    if total == 1 and projects:
        return str(projects[0]["id"])
    if total == 0:
        raise usage_error(
            "No project is registered yet. Register one with `awf project register <repo>`."
        )
    raise usage_error(
        f"{total} projects are registered; say which one with --project/-p (or AWF_PROJECT). "
        "List them with `awf project list`."
    )
