"""Readable renderings of `/context status` and `/context memory`, and the cache summaries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

__all__ = ["CONTEXT_SUMMARIES", "CONTEXT_VIEWS", "context_memory", "context_status"]


def context_status(result: dict[str, Any]) -> RenderableType:
    parts: list[RenderableType] = [_cache_panel(result.get("cache") or {})]
    if "pack" in result:
        pack = result.get("pack")
        parts.append(_pack_table(pack) if pack else escape(str(result.get("note", ""))))
    else:
        parts.append(_recent_table(result.get("packs") or []))
    return Group(*parts)


def context_memory(result: dict[str, Any]) -> RenderableType:
    memory: dict[str, list[dict[str, Any]]] = result.get("memory") or {}
    if not memory:
        return "No agent has notes yet."
    table = Table(title="Agent memory (newest first)")
    for column in ("agent", "time", "note"):
        table.add_column(column, overflow="fold")
    for agent, notes in memory.items():
        for note in notes or [{"at": "", "note": "-"}]:
            table.add_row(agent, str(note.get("at", ""))[:19], escape(str(note.get("note", ""))))
    return table


def _cache_panel(cache: dict[str, Any]) -> RenderableType:
    lines = [
        f"Cached summaries: {cache.get('summaries', 0)} ({cache.get('summary_chars', 0)} chars),"
        f" stale: {cache.get('stale', 0)} — drop them with `awf context optimize`",
        f"Files seen by the last scan: {cache.get('files_seen', 0)}",
        f"Contexts built: {cache.get('packs_built', 0)}; summaries reused "
        f"{cache.get('summaries_reused', 0)}, made {cache.get('summaries_made', 0)}",
    ]
    return Panel("\n".join(lines), title="Context cache", expand=False)


def _recent_table(packs: list[dict[str, Any]]) -> RenderableType:
    table = Table(title="Latest agent contexts")
    columns = ("story_id", "phase", "role", "tokens", "budget_tokens", "whole", "summary")
    for column in (*columns, "omitted", "built_at"):
        table.add_column(column, overflow="fold")
    for pack in packs:
        cells = [*(pack.get(c) for c in columns), pack.get("omitted"), pack.get("built_at")]
        table.add_row(*(str(c)[:19] if c is not None else "" for c in cells))
    return table


def _pack_table(stored: dict[str, Any]) -> RenderableType:
    pack = stored.get("pack") or {}
    title = (
        f"Context of {pack.get('story_id')} ({pack.get('phase')}, {pack.get('role')}): "
        f"{pack.get('tokens')} of {pack.get('budget_tokens')} tokens"
    )
    table = Table(title=escape(title))
    for column in ("path", "mode", "tokens", "why", "digest"):
        table.add_column(column, overflow="fold")
    for f in pack.get("files") or []:
        why = f.get("pinned") or f"score {f.get('score')}"
        digest = str(f.get("digest", ""))[:12]
        table.add_row(escape(str(f.get("path"))), f.get("mode"), str(f.get("tokens")), why, digest)
    for path in pack.get("omitted") or []:
        table.add_row(escape(str(path)), "omitted", "", "over the budget", "")
    return table


def _savings(verb: str) -> Callable[[dict[str, Any]], str]:
    def describe(r: dict[str, Any]) -> str:
        return (
            f"context cache {verb}: {r.get('dropped', 0)} summaries dropped, "
            f"~{r.get('tokens_freed', 0)} tokens freed, {r.get('kept', 0)} kept"
        )

    return describe


CONTEXT_VIEWS: dict[str, Callable[[dict[str, Any]], RenderableType]] = {
    "context status": context_status,
    "context memory": context_memory,
}
CONTEXT_SUMMARIES: dict[str, Callable[[dict[str, Any]], str]] = {
    "context optimize": _savings("optimized"),
    "context clear_cache": _savings("cleared"),
}
