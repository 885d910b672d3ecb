"""Pure formatting: command outcomes as an embed, refusals as short ephemeral text, all within
Discord's limits; the full output is one link away on the API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from services.gateway.discord import wire
from services.gateway.discord.wire import Json
from shared.platform.errors import AppError

if TYPE_CHECKING:
    from shared.workflow.context import CommandOutcome

__all__ = ["error_text", "mention", "outcome_message", "summary_lines"]

_SUMMARY_CHARS = 3_000
_LIST_SHOWN = 8
_OK, _REPLAYED = 0x2ECC71, 0x95A5A6


def mention(actor_name: str) -> str:
    """`discord:<id>` as a mention (rendered, never pinging); other actors by name."""
    user_id = actor_name.removeprefix("discord:")
    return f"<@{user_id}>" if user_id.isdigit() and user_id != actor_name else actor_name


def outcome_message(outcome: CommandOutcome, link: str | None, rows: list[Json]) -> Json:
    title = f"/{outcome.command}" + (f" · {outcome.project_id}" if outcome.project_id else "")
    lines = summary_lines(outcome.result)
    description = "\n".join(lines) or "Done."
    if len(description) > _SUMMARY_CHARS:
        description = wire.fit(description, _SUMMARY_CHARS) + "\n(cut; the link has it all)"
    embed: Json = {
        "title": wire.fit(title, wire.MAX_EMBED_TITLE),
        "description": description,
        "color": _REPLAYED if outcome.replayed else _OK,
        "fields": _state_field(outcome),
    }
    if link:
        embed["url"] = link
    return {
        "content": wire.fit(f"/{outcome.command}: done", wire.MAX_CONTENT),
        "embeds": [embed],
        "components": rows[: wire.MAX_ROWS],
        "allowed_mentions": {"parse": []},
    }


def _state_field(outcome: CommandOutcome) -> list[Json]:
    if outcome.from_state is None:
        return []
    value = outcome.from_state
    if outcome.to_state and outcome.to_state != outcome.from_state:
        value = f"{outcome.from_state} → {outcome.to_state}"
    return [{"name": "State", "value": value, "inline": True}]


def summary_lines(result: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for key, value in result.items():
        if value in (None, "", [], {}):
            continue
        label = key.replace("_", " ")
        if isinstance(value, list):
            lines.append(f"**{label}** ({len(value)}):")
            lines += [f"• {_item(v)}" for v in value[:_LIST_SHOWN]]
            if len(value) > _LIST_SHOWN:
                lines.append(f"… and {len(value) - _LIST_SHOWN} more")
        else:
            lines.append(f"**{label}**: {_item(value)}")
    return lines


def _item(value: Any) -> str:
    if not isinstance(value, dict):
        return wire.fit(str(value), 200)
    name = value.get("title") or value.get("name") or value.get("summary") or ""
    head = " ".join(str(p) for p in (value.get("id", ""), name) if p)
    status = value.get("status") or value.get("state") or value.get("phase")
    scalars = [f"{k}={v}" for k, v in value.items() if isinstance(v, int | float | bool)][:4]
    text = " ".join(p for p in (head, f"[{status}]" if status else "", " ".join(scalars)) if p)
    return wire.fit(text or "…", 200)


def error_text(exc: Exception, command: str | None = None) -> str:
    """What went wrong, and what is possible instead, in one short paragraph."""
    if isinstance(exc, ValidationError):
        problems = "; ".join(_problem(e) for e in exc.errors(include_url=False)[:5])
        where = f" for /{command}" if command else ""
        return f"Invalid options{where}: {problems}."
    if not isinstance(exc, AppError):
        return "Something went wrong on our side; it was logged. Try again shortly."
    text = exc.message
    allowed = exc.details.get("allowed_commands")
    if allowed:
        text += "\nAllowed now: " + ", ".join(f"/{c}" for c in allowed)
    elif isinstance(exc.details.get("allowed"), list) and exc.details["allowed"]:
        text += "\nKnown commands: " + ", ".join(f"/{c}" for c in exc.details["allowed"][:25])
    return text


def _problem(error: Any) -> str:
    where = ".".join(str(p) for p in error.get("loc", ())) or "options"
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{where}: {message}"
