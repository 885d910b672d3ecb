"""An agent's view of the repository within a token budget: the `ContextPack` and its
`<context>` block for the task text.

Tokens are estimated as characters / 4 (`estimate_tokens`); the rendered block never exceeds
the budget by that estimate. Files come in rank order (`context_rank`): whole when small
(a quarter of the budget at most, half for pinned files), else summarised (`context_summary`),
clipped to what is left, or named as omitted. Summaries known for a file's current digest are
reused, new ones returned for the cache. Pure and deterministic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Literal

from pydantic import BaseModel, Field

from shared.agents.context_rank import Ranked
from shared.agents.context_summary import clip, summarize

__all__ = [
    "CHARS_PER_TOKEN",
    "CachedSummary",
    "ContextPack",
    "ContextSelection",
    "PackRequest",
    "PackedFile",
    "estimate_tokens",
    "pack_context",
]

CHARS_PER_TOKEN = 4
WHOLE_SHARE, PINNED_SHARE = 4, 2
OMITTED_RESERVE = 400  # characters
_INTRO = (
    "Repository files chosen for this story, most relevant first. mode=summary shows only "
    "signatures and docstrings (or the first lines); read_file shows the rest. Token counts "
    "are estimates: characters / 4.\n"
)


def estimate_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


class PackedFile(BaseModel):
    path: str
    mode: Literal["whole", "summary"]
    tokens: int
    digest: str
    score: int
    pinned: str | None = None


class ContextPack(BaseModel):
    story_id: str
    phase: str
    role: str
    budget_tokens: int
    tokens: int = 0
    files: list[PackedFile] = Field(default_factory=list)
    omitted: list[str] = Field(default_factory=list, description="relevant, over the budget")
    memory_notes: int = 0


class CachedSummary(BaseModel):
    """A file's summary, valid while the file's digest stays the same."""

    digest: str
    text: str


@dataclass(frozen=True)
class PackRequest:
    story_id: str
    phase: str
    role: str
    budget_tokens: int
    notes: Sequence[str] = ()


@dataclass(frozen=True)
class ContextSelection:
    pack: ContextPack
    text: str
    made: dict[str, CachedSummary]  # path -> summary computed now, for the cache


@dataclass
class _Packer:
    budget_chars: int
    remaining: int
    pieces: list[str] = field(default_factory=list)
    files: list[PackedFile] = field(default_factory=list)
    omitted: list[str] = field(default_factory=list)
    made: dict[str, CachedSummary] = field(default_factory=dict)

    def take(self, piece: str) -> bool:
        if len(piece) > self.remaining:
            return False
        self.pieces.append(piece)
        self.remaining -= len(piece)
        return True

    def add_file(self, ranked: Ranked, cached: Mapping[str, CachedSummary]) -> None:
        file = ranked.file
        share = PINNED_SHARE if ranked.pinned else WHOLE_SHARE
        whole = _chunk(file.path, "whole", file.text)
        if len(whole) <= self.budget_chars // share and self.take(whole):
            self._record(ranked, "whole", file.text)
            return
        summary = self._summary(ranked, cached)
        room = self.remaining - len(_chunk(file.path, "summary", "")) - 12  # digits of tokens=
        clipped = clip(summary, room) if room > 0 else ""
        if clipped and self.take(_chunk(file.path, "summary", clipped)):
            self._record(ranked, "summary", clipped)
        else:
            self.omitted.append(file.path)

    def _summary(self, ranked: Ranked, cached: Mapping[str, CachedSummary]) -> str:
        file = ranked.file
        known = cached.get(file.path)
        if known is not None and known.digest == file.digest:
            return known.text
        text = summarize(file.path, file.text)
        self.made[file.path] = CachedSummary(digest=file.digest, text=text)
        return text

    def _record(self, ranked: Ranked, mode: Literal["whole", "summary"], content: str) -> None:
        tokens = estimate_tokens(content)
        self.files.append(
            PackedFile(
                path=ranked.file.path,
                mode=mode,
                tokens=tokens,
                digest=ranked.file.digest,
                score=ranked.score,
                pinned=ranked.pinned,
            )
        )


def pack_context(
    request: PackRequest, ranked: Sequence[Ranked], cached: Mapping[str, CachedSummary]
) -> ContextSelection:
    opening = _opening(request)
    closing = "</context>"
    budget_chars = max(request.budget_tokens, 0) * CHARS_PER_TOKEN
    packer = _Packer(budget_chars, budget_chars - len(opening) - len(closing))
    pack = ContextPack(
        story_id=request.story_id,
        phase=request.phase,
        role=request.role,
        budget_tokens=request.budget_tokens,
    )
    if packer.remaining < 0:
        return ContextSelection(pack, "", {})
    pack.memory_notes = _add_notes(packer, request)
    reserve = min(budget_chars // 10, OMITTED_RESERVE, max(packer.remaining, 0))
    packer.remaining -= reserve  # so the omitted files can still be named
    for item in ranked:
        packer.add_file(item, cached)
    packer.remaining += reserve
    _add_omitted(packer)
    text = opening + "".join(packer.pieces) + closing
    pack.files, pack.omitted, pack.tokens = packer.files, packer.omitted, estimate_tokens(text)
    return ContextSelection(pack, text, packer.made)


def _opening(request: PackRequest) -> str:
    attrs = f'story="{escape(request.story_id)}" phase="{escape(request.phase)}"'
    return f'<context {attrs} budget_tokens="{request.budget_tokens}">\n{_INTRO}'


def _chunk(path: str, mode: str, content: str) -> str:
    tokens = estimate_tokens(content)
    head = f'<file path="{escape(path)}" mode="{mode}" tokens="{tokens}">'
    return f"{head}\n{content}\n</file>\n"


def _add_notes(packer: _Packer, request: PackRequest) -> int:
    """The role's memory, newest first, as many notes as fit."""
    notes = list(request.notes)
    while notes:
        lines = "".join(f"- {n}\n" for n in notes)
        if packer.take(f'<memory role="{escape(request.role)}">\n{lines}</memory>\n'):
            return len(notes)
        notes.pop()
    return 0


def _add_omitted(packer: _Packer) -> None:
    names = list(packer.omitted)
    while names and not packer.take(f"<omitted>over the budget: {', '.join(names)}</omitted>\n"):
        names.pop()
