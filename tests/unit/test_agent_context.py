"""Agent context: which files a story gets, how large ones are summarised, and the budget."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.agents.context import (
    CachedSummary,
    PackRequest,
    estimate_tokens,
    pack_context,
)
from shared.agents.context_rank import Ranked, rank_files, terms_of
from shared.agents.context_scan import MAX_FILE_BYTES, SourceFile, digest_of, scan_workspace
from shared.agents.context_summary import clip, summarize
from shared.agents.task import StoryBrief
from shared.domain.phases import Phase

STORY = StoryBrief(
    id="story-0000000a",
    title="Add two numbers",
    description="The calculator adds numbers.",
    acceptance_criteria=["add(2, 3) == 5", "adding a negative number subtracts"],
)
CALC = '"""A tiny calculator."""\n\n\ndef add(a: int, b: int) -> int:\n    return a + b\n'
BIG_PY = (
    '"""Geometry helpers.\n\nLong explanation."""\n\nimport math\n\n\n'
    "@dataclass\nclass Shape(Base, metaclass=Meta):\n"
    '    """A shape.\n\n    More."""\n\n    sides: int = 3\n\n'
    "    async def area(self, scale: float = 1.0) -> float:\n"
    '        """Area of the shape."""\n' + "        x = 1\n" * 400 + "\n\n"
    "def perimeter(*sides: float, **kw: int) -> float:\n    return sum(sides)\n"
)


def source(path: str, text: str) -> SourceFile:
    return SourceFile(path, text, digest_of(text.encode()))


def request(budget: int, notes: tuple[str, ...] = ()) -> PackRequest:
    return PackRequest(STORY.id, "CODE_GREEN", "code", budget, notes)


# --- terms and ranking ----------------------------------------------------------------------


def test_terms_split_snake_and_camel_case_and_drop_noise() -> None:
    terms = terms_of("parseHTTPResponse add_numbers the x of it Calculator")
    assert {"parsehttpresponse", "parse", "http", "response"} <= terms
    assert {"add_numbers", "add", "numbers", "calculator"} <= terms
    assert not {"the", "x", "of", "it"} & terms


def test_the_design_note_is_pinned_first_and_unrelated_files_are_left_out() -> None:
    files = [
        source("calc/add.py", CALC),
        source("docs/design/story-0000000a.md", "# Design\nplain words"),
        source("setup.cfg", "[metadata]\nname = x\n"),
        source("calc/numbers.py", "def numbers(): ...\n"),
    ]
    ranked = rank_files(files, STORY, Phase.TEST_RED)
    assert ranked[0].file.path == "docs/design/story-0000000a.md"
    assert ranked[0].pinned == "design note"
    assert [r.file.path for r in ranked[1:]] == ["calc/add.py", "calc/numbers.py"]
    assert "setup.cfg" not in [r.file.path for r in ranked]


@pytest.mark.parametrize(("phase", "pinned"), [(Phase.CODE_GREEN, True), (Phase.TEST_RED, False)])
def test_red_tests_are_pinned_for_code_and_refactor_only(phase: Phase, pinned: bool) -> None:
    files = [source("tests/test_z.py", "def test_z(): assert True\n"), source("calc.py", CALC)]
    ranked = rank_files(files, STORY, phase, ["tests/test_z.py::test_z"])
    paths = [r.file.path for r in ranked]
    assert (paths[:1] == ["tests/test_z.py"]) is pinned
    assert ("tests/test_z.py" in paths) is pinned


def test_path_matches_outweigh_content_and_ties_go_by_path() -> None:
    files = [
        source("b/other.py", "# add numbers here\n"),
        source("a/other.py", "# add numbers here\n"),
        source("numbers/add.py", "pass\n"),
    ]
    assert [r.file.path for r in rank_files(files, STORY, Phase.DESIGN)] == [
        "numbers/add.py",
        "a/other.py",
        "b/other.py",
    ]


# --- the workspace scan ---------------------------------------------------------------------


def test_scan_skips_vcs_vendored_binary_huge_lock_and_symlinked_files(tmp_path: Path) -> None:
    files = {
        "src/calc.py": CALC,
        ".git/config": "[core]",
        "node_modules/x/index.js": "x",
        "pkg.egg-info/PKG-INFO": "x",
        "uv.lock": "x",
        "big.txt": "x" * (MAX_FILE_BYTES + 1),
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\0\0data")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    os.symlink("/etc/hostname", tmp_path / "escape.txt")
    scanned = scan_workspace(tmp_path)
    assert [f.path for f in scanned] == ["src/calc.py"]
    assert scanned[0].digest == digest_of(CALC.encode())


# --- summaries ------------------------------------------------------------------------------


def test_python_summary_keeps_docstrings_signatures_and_fields_only() -> None:
    summary = summarize("geo.py", BIG_PY)
    assert summary.splitlines() == [
        '"""Geometry helpers."""',
        "@dataclass",
        "class Shape(Base, metaclass=Meta):",
        '    """A shape."""',
        "    sides: int = 3",
        "    async def area(self, scale: float=1.0) -> float: ...",
        '        """Area of the shape."""',
        "def perimeter(*sides: float, **kw: int) -> float: ...",
    ]


def test_other_files_and_broken_python_show_their_first_lines() -> None:
    text = "\n".join(f"line {n}" for n in range(100))
    for path in ("notes.md", "broken.py"):
        summary = summarize(path, text + ("\ndef (" if path.endswith(".py") else ""))
        assert summary.splitlines()[0] == "line 0"
        assert summary.splitlines()[-1].startswith("… (")
        assert len(summary.splitlines()) == 41


def test_clip_keeps_whole_lines_and_marks_the_cut() -> None:
    assert clip("short", 100) == "short"
    assert clip("a" * 10 + "\n" + "b" * 10 + "\n" + "c" * 10, 25) == "a" * 10 + "\n… (clipped)"
    assert clip("a" * 50, 10) == ""


# --- packing into the budget ----------------------------------------------------------------


def test_small_files_whole_large_ones_summarised_within_the_budget() -> None:
    ranked = [Ranked(source("calc.py", CALC), 5), Ranked(source("geo.py", BIG_PY), 3)]
    selection = pack_context(request(2_000), ranked, {})
    modes = {f.path: f.mode for f in selection.pack.files}
    assert modes == {"calc.py": "whole", "geo.py": "summary"}
    assert CALC in selection.text
    assert "        x = 1" not in selection.text
    assert selection.text.startswith('<context story="story-0000000a" phase="CODE_GREEN"')
    assert selection.text.endswith("</context>")
    assert selection.pack.tokens == estimate_tokens(selection.text) <= 2_000
    assert set(selection.made) == {"geo.py"}


def test_a_cached_summary_is_reused_only_for_the_same_digest() -> None:
    geo = source("geo.py", BIG_PY)
    fresh = CachedSummary(digest=geo.digest, text="def cached(): ...")
    reused = pack_context(request(2_000), [Ranked(geo, 1)], {"geo.py": fresh})
    assert "def cached(): ..." in reused.text
    assert reused.made == {}
    stale = CachedSummary(digest="0" * 64, text="def cached(): ...")
    remade = pack_context(request(2_000), [Ranked(geo, 1)], {"geo.py": stale})
    assert "def cached(): ..." not in remade.text
    assert remade.made["geo.py"].digest == geo.digest


def test_what_does_not_fit_is_clipped_then_named_as_omitted() -> None:
    ranked = [Ranked(source(f"m{n}.py", BIG_PY), 1) for n in range(30)]
    selection = pack_context(request(600), ranked, {})
    assert selection.pack.omitted
    assert "<omitted>over the budget: m" in selection.text
    assert estimate_tokens(selection.text) <= 600


def test_memory_notes_come_first_newest_first() -> None:
    selection = pack_context(request(1_000, ("newest", "older")), [], {})
    assert '<memory role="code">\n- newest\n- older\n</memory>' in selection.text
    assert selection.pack.memory_notes == 2


def test_a_budget_too_small_for_the_frame_gives_nothing() -> None:
    selection = pack_context(request(10), [Ranked(source("calc.py", CALC), 1)], {})
    assert (selection.text, selection.pack.tokens, selection.pack.files) == ("", 0, [])


PATHS = st.from_regex(r"[a-z]{1,8}(/[a-z_]{1,8}){0,2}\.(py|md|txt)", fullmatch=True)
TEXTS = st.one_of(
    st.text(max_size=1_500),
    st.sampled_from([CALC, BIG_PY, "class X:\n    def f(self): ...\n" * 200]),
)
FILES = st.dictionaries(PATHS, TEXTS, max_size=12)
NOTES = st.lists(st.text(min_size=1, max_size=300), max_size=5)


@settings(database=None, max_examples=80, deadline=None)
@given(FILES, st.integers(min_value=0, max_value=5_000), NOTES)
def test_never_over_budget_and_deterministic(
    files: dict[str, str], budget: int, notes: list[str]
) -> None:
    ranked = [Ranked(source(p, t), len(t) % 7) for p, t in sorted(files.items())]
    first = pack_context(request(budget, tuple(notes)), ranked, {})
    again = pack_context(request(budget, tuple(notes)), ranked, {})
    assert estimate_tokens(first.text) <= budget
    assert first.pack.tokens == estimate_tokens(first.text)
    assert (first.text, first.pack) == (again.text, again.pack)
    shown = {f.path for f in first.pack.files}
    assert not shown & set(first.pack.omitted)
    assert len(shown) + len(first.pack.omitted) == (len(ranked) if first.text else 0)
