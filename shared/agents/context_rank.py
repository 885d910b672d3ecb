"""Which files matter to a story: the terms of its title, description and acceptance criteria
matched against each file's path, the names it defines and the words it contains.

Pinned files come first whatever they score: the story's design note, and in CODE_GREEN and
REFACTOR the test files the RED gate named. Other files need at least one matching term.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from shared.agents.context_scan import SourceFile
from shared.domain.phases import Phase

__all__ = ["MAX_CANDIDATES", "Ranked", "StoryLike", "design_note_path", "rank_files", "terms_of"]

MAX_CANDIDATES = 200
PATH_WEIGHT, NAME_WEIGHT, WORD_WEIGHT = 4, 2, 1
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_CAMEL = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_DEFINED = re.compile(r"^\s*(?:async\s+def|def|class)\s+([A-Za-z_][A-Za-z0-9_]*)", re.MULTILINE)
_STOP_WORDS = (
    "the and for with that this from are was were will can should must not when then than "
    "into onto each every all any its his her our your their have has had been being use "
    "uses used using def class return self none true false import given story user want "
    "able see"
)
_STOP = frozenset(_STOP_WORDS.split())
_TESTS_PHASES = (Phase.CODE_GREEN, Phase.REFACTOR)


class StoryLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def acceptance_criteria(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class Ranked:
    file: SourceFile
    score: int
    pinned: str | None = None  # why the file is always shown


def design_note_path(story_id: str) -> str:
    return f"docs/design/{story_id}.md"


def terms_of(text: str) -> frozenset[str]:
    """Lower-case identifiers and their snake_case and camelCase parts, minus noise words."""
    terms: set[str] = set()
    for word in set(_IDENTIFIER.findall(text)):
        terms.update(_word_terms(word))
    return frozenset(terms)


@functools.lru_cache(maxsize=65_536)
def _word_terms(word: str) -> frozenset[str]:
    parts = [p for chunk in word.split("_") for p in _CAMEL.findall(chunk)]
    return frozenset(
        t for t in (w.lower() for w in (word, *parts)) if len(t) >= 3 and t not in _STOP
    )


def story_terms(story: StoryLike) -> frozenset[str]:
    return terms_of(" ".join([story.title, story.description, *story.acceptance_criteria]))


def pinned_paths(story: StoryLike, phase: Phase, red_test_ids: Iterable[str]) -> dict[str, str]:
    pinned = {design_note_path(story.id): "design note"}
    if phase in _TESTS_PHASES:
        for test_id in red_test_ids:
            pinned.setdefault(test_id.split("::", 1)[0], "RED test")
    return pinned


def score(file: SourceFile, wanted: frozenset[str]) -> int:
    in_path = len(terms_of(file.path) & wanted)
    defined = len(terms_of(" ".join(_DEFINED.findall(file.text))) & wanted)
    in_text = len(terms_of(file.text) & wanted)
    return PATH_WEIGHT * in_path + NAME_WEIGHT * defined + WORD_WEIGHT * in_text


def rank_files(
    files: Iterable[SourceFile],
    story: StoryLike,
    phase: Phase,
    red_test_ids: Iterable[str] = (),
) -> list[Ranked]:
    """Pinned files in pin order, then the rest by score (ties by path); at most MAX_CANDIDATES."""
    pins = pinned_paths(story, phase, red_test_ids)
    wanted = story_terms(story)
    pinned: list[Ranked] = []
    scored: list[Ranked] = []
    for file in files:
        points = score(file, wanted)
        if file.path in pins:
            pinned.append(Ranked(file, points, pins[file.path]))
        elif points > 0:
            scored.append(Ranked(file, points))
    order = list(pins)
    pinned.sort(key=lambda r: order.index(r.file.path))
    scored.sort(key=lambda r: (-r.score, r.file.path))
    return (pinned + scored)[:MAX_CANDIDATES]
