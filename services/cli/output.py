"""Where the CLI writes: results to stdout, errors to stderr, raw JSON for `--json`."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape

__all__ = ["api_error", "err_console", "error", "out", "print_json", "success"]

out = Console(highlight=False, soft_wrap=False)
err_console = Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    """Plain JSON on stdout (no colours, no wrapping) for scripts."""
    print(json.dumps(data, indent=2, default=str))


def _unwrapped(console: Console) -> bool:
    """Piped output keeps each message on one line, whatever the width: paths stay greppable."""
    return not console.is_terminal


def success(message: str) -> None:
    out.print(f"[green]✔ {escape(message)}[/green]", soft_wrap=_unwrapped(out))


def error(message: str) -> None:
    err_console.print(f"[red]✘ {escape(message)}[/red]", soft_wrap=_unwrapped(err_console))


def api_error(status_code: int, body: dict[str, Any]) -> None:
    """The server's message, plus what it says is allowed (409) or which fields are wrong (422)."""
    kind = body.get("type") or "error"
    message = body.get("message") or body.get("detail") or "no message"
    fields = [e for e in body.get("errors") or [] if isinstance(e, dict)]
    if fields:
        message = f"The server rejected the request ({len(fields)} invalid field(s)):"
    error(message if isinstance(message, str) else json.dumps(message))
    for item in fields:
        name = escape(str(item.get("field") or item.get("loc") or "?"))
        err_console.print(f"   [yellow]{name}[/yellow]: {escape(str(item.get('message')))}")
    err_console.print(f"[dim]   HTTP {status_code} {escape(str(kind))}[/dim]")
    if body.get("state"):
        err_console.print(f"   Current state: [bold]{escape(str(body['state']))}[/bold]")
    allowed = body.get("allowed_commands")
    if isinstance(allowed, list):
        names = ", ".join(f"awf {c}" for c in allowed) or "none"
        err_console.print(f"   Allowed commands: [cyan]{escape(names)}[/cyan]")
