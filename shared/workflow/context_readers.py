"""/context status and /context memory: what agents were shown, and what they remember."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shared.domain.args_context import AGENT_NAMES
from shared.workflow import context_store

if TYPE_CHECKING:
    from shared.domain.args_context import ContextMemoryArgs, ContextStatusArgs
    from shared.domain.models import Project
    from shared.state.store import Store
    from shared.workflow.context_store import StoredPack

__all__ = ["context_memory", "context_status"]


async def context_status(store: Store, project: Project, args: ContextStatusArgs) -> dict[str, Any]:
    redis, pid = store.redis, project.id
    result: dict[str, Any] = {"cache": await _cache(store, pid)}
    if args.story_id:
        stored = await context_store.load_pack(redis, pid, args.story_id)
        result["pack"] = stored.model_dump(mode="json") if stored else None
        if stored is None:
            result["note"] = f"No agent has had a context for story {args.story_id} yet."
        return result
    recent = await context_store.recent_packs(redis, pid, args.limit)
    result["packs"] = [_brief(s) for s in recent]
    return result


async def context_memory(store: Store, project: Project, args: ContextMemoryArgs) -> dict[str, Any]:
    agents = [args.agent] if args.agent else list(AGENT_NAMES)
    memory: dict[str, list[dict[str, Any]]] = {}
    for agent in agents:
        notes = await context_store.recall(store.redis, project.id, agent, args.limit)
        if notes or args.agent:
            memory[agent] = [n.model_dump(mode="json") for n in notes]
    return {"memory": memory, "limit_per_agent": context_store.MEMORY_LIMIT}


async def _cache(store: Store, project_id: str) -> dict[str, Any]:
    redis = store.redis
    index = await context_store.summary_index(redis, project_id)
    seen = await context_store.files_seen(redis, project_id)
    return {
        "summaries": len(index),
        "summary_chars": sum(e.size for e in index.values()),
        "stale": len(context_store.stale_paths(index, seen)),
        "files_seen": len(seen),
        **await context_store.stats(redis, project_id),
    }


def _brief(stored: StoredPack) -> dict[str, Any]:
    pack = stored.pack
    return {
        "story_id": pack.story_id,
        "phase": pack.phase,
        "role": pack.role,
        "tokens": pack.tokens,
        "budget_tokens": pack.budget_tokens,
        "whole": sum(1 for f in pack.files if f.mode == "whole"),
        "summary": sum(1 for f in pack.files if f.mode == "summary"),
        "omitted": len(pack.omitted),
        "built_at": stored.built_at.isoformat(),
    }
