"""`awf`: drive the orchestrator from a terminal, or start the whole stack locally.

Every workflow command is generated from the command table (`services.cli.commands`); `token`,
`up`, `demo`, `watch`, `health` and the backup tools (`backup`, `restore`, `decrypt-backup`,
`export`, `import`) are local.
"""

from __future__ import annotations

from typing import Annotated

import typer

from services.cli.backup import backup, decrypt_backup_folder, restore
from services.cli.board import board
from services.cli.commands import register_commands
from services.cli.context import CliState
from services.cli.demo import demo
from services.cli.health import health
from services.cli.project_io import export, import_file
from services.cli.token import token
from services.cli.up import up
from services.cli.watch import watch

__all__ = ["app", "main"]

app = typer.Typer(
    name="awf",
    help="Agent workflow orchestrator: Scrum and strict TDD for AI agents.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def root(
    ctx: typer.Context,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url",
            envvar="AWF_API_URL",
            help="API base url (default: the running `awf up`).",
            show_default=False,
        ),
    ] = None,
    token_value: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="AWF_TOKEN",
            help="Bearer token (default: the running `awf up`'s admin token).",
            show_default=False,
        ),
    ] = None,
    project: Annotated[
        str | None,
        typer.Option(
            "--project",
            "-p",
            envvar="AWF_PROJECT",
            help="Project id for project commands (default: the only project).",
            show_default=False,
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="Print raw JSON responses (for scripts).")
    ] = False,
) -> None:
    """Agent workflow orchestrator: Scrum and strict TDD for AI agents."""
    prior = ctx.obj if isinstance(ctx.obj, CliState) else CliState()
    ctx.obj = CliState(
        api_url=api_url or prior.api_url,
        token=token_value or prior.token,
        project=project or prior.project,
        json_output=json_output or prior.json_output,
        transport=prior.transport,
    )


register_commands(app)
app.command("token")(token)
app.command("up")(up)
app.command("demo")(demo)
app.command("watch")(watch)
app.command("board")(board)
app.command("health")(health)
app.command("backup")(backup)
app.command("restore")(restore)
app.command("decrypt-backup")(decrypt_backup_folder)
app.command("export")(export)
app.command("import")(import_file)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
