"""Typer subcommands generated from the command table: nothing here lists commands by hand.

A one-word name (`epic`, `approve`, `state`) is a top-level command; `backlog view` is the
`view` command of the `backlog` group. Names with underscores also answer to dashes
(`request-changes`), hidden from help.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import typer
from rich.markup import escape

from services.cli import output
from services.cli.client import ApiClient
from services.cli.context import CliState, call, resolve_project
from services.cli.params import collect_args, typer_parameters
from services.cli.render import VIEWS
from services.cli.summaries import print_mutation
from shared.domain.commands import COMMANDS, Command

__all__ = ["GROUP_HELP", "execute", "make_callback", "register_commands", "show"]

GROUP_HELP = {
    "backlog": "View and change the backlog.",
    "sprint": "Plan, start, pause, resume and follow sprints.",
    "project": "Register, list, start and stop projects.",
    "global": "Every project at a glance.",
    "resource": "Capacity and queued work.",
    "context": "What agents see of the repository, their memory, and the summary cache.",
}
_JSON = "awf_json"
_PROJECT = "awf_project"


def register_commands(app: typer.Typer) -> dict[str, typer.Typer]:
    """Add one subcommand per table entry to ``app``; returns the groups it created."""
    groups: dict[str, typer.Typer] = {}
    for command in COMMANDS.values():
        *group_path, name = command.path
        target = app
        if group_path:
            group = group_path[0]
            if group not in groups:
                groups[group] = typer.Typer(no_args_is_help=True, help=_group_help(group))
            target = groups[group]
        _add(target, name, command)
    for group, sub_app in groups.items():
        app.add_typer(sub_app, name=group)
    return groups


def _add(target: typer.Typer, name: str, command: Command) -> None:
    callback = make_callback(command)
    help_text = escape(command.help)
    epilog = _epilog(command)
    target.command(name, help=help_text, epilog=epilog)(callback)
    alias = name.replace("_", "-")
    if alias != name:
        target.command(alias, help=help_text, epilog=epilog, hidden=True)(callback)


def make_callback(command: Command) -> Callable[..., None]:
    """A function whose signature typer reads: context, the model's fields, --json/--project."""

    def callback(ctx: typer.Context, **values: Any) -> None:
        state = ctx.find_object(CliState) or CliState()
        if values.pop(_JSON, False):
            state.json_output = True
        project = values.pop(_PROJECT, None)
        if project:
            state.project = project
        execute(state, command, values)

    params = [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
        *typer_parameters(command.args),
        *_common_parameters(command),
    ]
    callback.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    callback.__annotations__ = {}
    callback.__name__ = callback.__qualname__ = command.name.replace(" ", "_")
    return callback


def execute(state: CliState, command: Command, values: dict[str, Any]) -> None:
    """Send ``command`` with the given values and render the answer."""
    args = collect_args(command.args, values)

    def action(client: ApiClient) -> Any:
        project = resolve_project(state, client) if command.scope == "project" else None
        return client.run(command, args, project)

    show(command, call(state, action), json_output=state.json_output)


def show(command: Command, body: Any, *, json_output: bool) -> None:
    if json_output or not isinstance(body, dict):
        output.print_json(body)
        return
    view = VIEWS.get(command.name)
    if view is not None:
        output.out.print(view(body.get("result") or {}))
    else:
        print_mutation(command.name, body)


def _common_parameters(command: Command) -> list[inspect.Parameter]:
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter(
            _JSON,
            keyword,
            default=typer.Option(False, "--json", help="Print the raw JSON response."),
            annotation=bool,
        )
    ]
    if command.scope == "project":
        option = typer.Option(
            None,
            "--project",
            "-p",
            help="Project id (default: the only project).",
            show_default=False,
        )
        params.append(inspect.Parameter(_PROJECT, keyword, default=option, annotation=str | None))
    return params


def _epilog(command: Command) -> str | None:
    parts = [f"Needs role: {command.role.name.lower()}."]
    if command.scope == "project" and command.allowed_from:
        states = ", ".join(sorted(s.value for s in command.allowed_from))
        parts.append(f"Allowed in: {states}.")
    return " ".join(parts)


def _group_help(group: str) -> str:
    return GROUP_HELP.get(group, f"{group.capitalize()} commands.")
