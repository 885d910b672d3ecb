"""Discord messages as the demo prints them: one row per message (time, author, short content),
for a channel and each of its story threads, read from the fake Discord's recording."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from rich.markup import escape
from rich.table import Table

from services.cli.demo_discord import Json, buttons_of

__all__ = ["channel_table", "message_text", "names_of"]

MAX_LINES = 6
MAX_CHARS = 300
_EPHEMERAL = 1 << 6
_MENTION = re.compile(r"<@!?(\d+)>")
_LINK = re.compile(r"\[([^\]]+)\]\(<?[^)>]+>?\)")


def names_of(messages: Iterable[Json]) -> dict[str, str]:
    """User id -> name, from the authors and the users behind interactions."""
    names: dict[str, str] = {}
    for message in messages:
        for user in (
            message.get("author"),
            (message.get("interaction_metadata") or {}).get("user"),
        ):
            if user:
                names[str(user["id"])] = str(user.get("username") or user["id"])
    return names


def message_text(message: Json, names: Mapping[str, str]) -> str:
    """Content, then each embed's title and description; mentions by name; at most MAX_LINES."""
    parts = [str(message.get("content") or "")]
    for embed in message.get("embeds") or []:
        head = str(embed.get("title") or "")
        parts.append(f"▌ {head}" if head else "")
        parts.append(str(embed.get("description") or ""))
        parts += [f"{f.get('name')}: {f.get('value')}" for f in embed.get("fields") or []]
    text = "\n".join(p for p in parts if p)
    text = _MENTION.sub(lambda m: "@" + names.get(m[1], m[1]), text)
    return _short(_LINK.sub(r"\1", text).replace("**", "").replace("`", ""))


def _short(text: str) -> str:
    lines = text.splitlines() or [""]
    kept = "\n".join(lines[:MAX_LINES])
    if len(kept) > MAX_CHARS:
        kept = kept[: MAX_CHARS - 1].rstrip() + "…"
    hidden = len(lines) - MAX_LINES
    more = f"\n… ({hidden} more line{'s' if hidden > 1 else ''})" if hidden > 0 else ""
    return kept + more


def channel_table(
    title: str, messages: list[Json], names: Mapping[str, str], invoked: Mapping[str, str]
) -> Table:
    """One row per message, oldest first; a reply names what the user did to get it."""
    table = Table(title=title, title_justify="left", show_lines=False, expand=False)
    table.add_column("time", style="dim", no_wrap=True)
    table.add_column("from", no_wrap=True)
    table.add_column("message", overflow="fold")
    for message in messages:
        table.add_row(_time(message), _author(message), _cell(message, names, invoked))
    if not messages:
        table.add_row("", "", "[dim](no messages)[/dim]")
    return table


def _time(message: Json) -> str:
    stamp = str(message.get("timestamp") or "")
    return stamp[11:19] if len(stamp) >= 19 else stamp


def _author(message: Json) -> str:
    author = message.get("author") or {}
    name = escape(str(author.get("username") or "?"))
    return f"[cyan]{name}[/cyan]" if author.get("bot") else name


def _cell(message: Json, names: Mapping[str, str], invoked: Mapping[str, str]) -> str:
    lines: list[str] = []
    meta = message.get("interaction_metadata") or {}
    if meta.get("id") in invoked:
        who = (meta.get("user") or {}).get("username", "someone")
        lines.append(f"[dim]↳ {escape(str(who))}: {escape(invoked[meta['id']])}[/dim]")
    lines.append(escape(message_text(message, names)))
    labels = [f"[{b.get('label') or '?'}]" for b in buttons_of(message)]
    notes = [" ".join(labels)] if labels else []
    if int(message.get("flags") or 0) & _EPHEMERAL:
        notes.append("only the user who asked sees this")
    if message.get("edited_timestamp"):
        notes.append("edited")
    if notes:
        lines.append(f"[dim]{escape(' · '.join(notes))}[/dim]")
    return "\n".join(lines)
