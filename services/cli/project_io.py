"""`awf export` and `awf import`: one project as a JSON file, read straight from Redis."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from services.cli import output
from services.cli.backup import encryption_key
from services.cli.redis_target import RedisUrlOption, fail, resolve_redis_url, with_redis
from shared.state.backup import BackupError
from shared.state.backup_crypto import open_sealed
from shared.state.project_export import ProjectExport, export_project, export_text
from shared.state.project_import import ImportSummary, import_project

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["export", "import_file"]


def export(
    project: Annotated[str, typer.Argument(help="The project id.", show_default=False)],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="File to write (default: stdout).", show_default=False),
    ] = None,
    redis_url: RedisUrlOption = None,
) -> None:
    """Export one project (documents, indexes, timeline) as readable JSON."""
    url = resolve_redis_url(redis_url)

    async def work(redis: Redis) -> ProjectExport | None:
        return await export_project(redis, project)

    exported = with_redis(url, work)
    if exported is None:
        raise fail(f"Project {project} not found in Redis.")
    text = export_text(exported)
    if out is None:
        print(text, end="")
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise fail(f"Cannot write {out}: {exc.strerror}") from None
    output.err_console.print(f"Exported {project} to {out} ({len(exported.timeline)} events)")


def import_file(
    file: Annotated[
        Path, typer.Argument(help="A file written by `awf export`.", show_default=False)
    ],
    as_id: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="Import under this project id (default: the exported id).",
            show_default=False,
        ),
    ] = None,
    redis_url: RedisUrlOption = None,
) -> None:
    """Import one project from its export (one of an encrypted backup's too, with its
    ENCRYPTION_KEY); refused when the project id is taken."""
    exported = _read_export(file)
    url = resolve_redis_url(redis_url)

    async def work(redis: Redis) -> ImportSummary:
        return await import_project(redis, exported, as_id)

    summary = with_redis(url, work)
    output.success(
        f"Imported project {summary.project_id}: {summary.entities} documents, "
        f"{summary.timeline_events} timeline events, {summary.other_keys} other keys"
    )


def _read_export(file: Path) -> ProjectExport:
    try:
        data = file.read_bytes()
        return ProjectExport.model_validate_json(open_sealed(data, encryption_key(), str(file)))
    except OSError as exc:
        raise fail(f"Cannot read {file}: {exc.strerror}") from None
    except BackupError as exc:
        raise fail(str(exc)) from None
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "file"
        raise fail(f"{file} is not a project export ({where}: {first['msg']})") from None
