"""/context optimize and /context clear_cache: pruning the agents' summary cache.

Both run in the project transaction: they WATCH the cache keys they judge, so a worker caching
a summary meanwhile makes the command re-run on fresh data instead of losing that entry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.agents.context import CHARS_PER_TOKEN
from shared.state import keys
from shared.workflow import context_store

if TYPE_CHECKING:
    from shared.domain.args import NoArgs
    from shared.workflow.context import CommandContext
    from shared.workflow.context_store import IndexEntry

__all__ = ["clear_cache", "optimize"]

_PATHS_SHOWN = 20


async def optimize(ctx: CommandContext, args: NoArgs) -> dict[str, Any]:
    pid = ctx.project.id
    index, seen = await _watched_cache(ctx)
    stale = context_store.stale_paths(index, seen)
    if stale:
        ctx.tx.call(lambda p: p.hdel(keys.context_summaries(pid), *stale))
        ctx.tx.call(lambda p: p.hdel(keys.context_summary_index(pid), *stale))
    return {
        **_savings(index, stale),
        "kept": len(index) - len(stale),
        "dropped_paths": stale[:_PATHS_SHOWN],
    }


async def clear_cache(ctx: CommandContext, args: NoArgs) -> dict[str, Any]:
    pid = ctx.project.id
    index, _ = await _watched_cache(ctx)
    ctx.tx.call(lambda p: p.delete(keys.context_summaries(pid), keys.context_summary_index(pid)))
    return {**_savings(index, sorted(index)), "kept": 0}


async def _watched_cache(ctx: CommandContext) -> tuple[dict[str, IndexEntry], dict[str, str]]:
    pid = ctx.project.id
    files_key = keys.context_files(pid)
    await ctx.tx.watch(keys.context_summary_index(pid), keys.context_summaries(pid), files_key)
    index = await context_store.summary_index(ctx.tx.reader, pid)
    seen = await context_store.files_seen(ctx.tx.reader, pid)
    return index, seen


def _savings(index: dict[str, IndexEntry], dropped: list[str]) -> dict[str, Any]:
    freed = sum(index[p].size for p in dropped)
    return {
        "dropped": len(dropped),
        "chars_freed": freed,
        "tokens_freed": -(-freed // CHARS_PER_TOKEN),
    }
