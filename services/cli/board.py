"""`awf board`: print a one-time link that logs a browser in to the web board."""

from __future__ import annotations

from typing import Any

import typer

from services.cli import output
from services.cli.client import ApiClient
from services.cli.context import CliState, call

__all__ = ["board", "login_link"]


def board(ctx: typer.Context) -> None:
    """Print a one-time link to the web board that logs the browser in as you (same subject and
    role as your token); it works once, within api.board_link_ttl_s (2 minutes)."""
    state = ctx.ensure_object(CliState)
    link = call(state, login_link)
    if state.json_output:
        output.print_json(link)
        return
    print(link["url"])
    output.err_console.print(
        f"[dim]Open it within {link['expires_in']} s; it works once. "
        f"Later: {link['board']} (log in with a token).[/dim]"
    )


def login_link(client: ApiClient) -> dict[str, Any]:
    body: dict[str, Any] = client.request("POST", "/api/v1/board/links")
    return body | {"url": f"{client.base_url}{body['path']}", "board": f"{client.base_url}/board"}
