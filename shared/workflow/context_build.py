"""The one call a phase job makes: the `<context>` block of an agent's task, cache updated."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from shared.agents.context import CachedSummary, ContextSelection, PackRequest, pack_context
from shared.agents.context_rank import Ranked, StoryLike, rank_files
from shared.agents.context_scan import SourceFile, scan_workspace
from shared.agents.roles import ROLE_BY_PHASE
from shared.domain.phases import Phase
from shared.workflow import context_store

if TYPE_CHECKING:
    from pathlib import Path

    from shared.state.store import Store

__all__ = ["MEMORY_SHOWN", "build_context"]

MEMORY_SHOWN = 5  # newest notes of the role shown to the agent


async def build_context(
    store: Store,
    project_id: str,
    story: StoryLike,
    phase: Phase,
    root: Path,
    budget_tokens: int,
    *,
    red_test_ids: Sequence[str] = (),
) -> str:
    """The `<context>` block for the agent of `phase` working on `story` in the clone at `root`,
    at most `budget_tokens` (estimated chars/4); "" for COMMIT, which runs no agent.

    Records the pack as the story's last, caches the summaries it made and remembers the
    digests the scan saw. File reads and parsing run in a thread, off the event loop.
    """
    role = ROLE_BY_PHASE.get(phase)
    if role is None:
        return ""
    files, ranked = await asyncio.to_thread(_scan_and_rank, root, story, phase, red_test_ids)
    redis = store.redis
    paths = [r.file.path for r in ranked]
    cached = await context_store.cached_summaries(redis, project_id, paths)
    notes = await context_store.recall(redis, project_id, role.value, MEMORY_SHOWN)
    request = PackRequest(
        story.id, phase.value, role.value, budget_tokens, tuple(n.note for n in notes)
    )
    selection = await asyncio.to_thread(pack_context, request, ranked, cached)
    stored = context_store.StoredPack(
        pack=selection.pack,
        summaries_reused=_reused(selection, cached),
        summaries_made=len(selection.made),
    )
    seen = {f.path: f.digest for f in files}
    await context_store.save_build(redis, project_id, stored, selection.made, seen)
    return selection.text


def _scan_and_rank(
    root: Path, story: StoryLike, phase: Phase, red_test_ids: Sequence[str]
) -> tuple[list[SourceFile], list[Ranked]]:
    files = scan_workspace(root)
    return files, rank_files(files, story, phase, red_test_ids)


def _reused(selection: ContextSelection, cached: dict[str, CachedSummary]) -> int:
    return sum(
        1
        for f in selection.pack.files
        if f.mode == "summary" and f.path not in selection.made and f.path in cached
    )
