"""Agent context on real Valkey: `build_context` and its cache, agent memory, and the four
`/context` commands through `execute`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from shared.agents.task import StoryBrief
from shared.domain.models import ScrumState
from shared.domain.phases import Phase
from shared.platform.errors import Forbidden
from shared.workflow import context_store
from shared.workflow.context_build import build_context
from tests.factories import (
    MEMBER,
    VIEWER,
    get_project,
    make_project_in_state,
    register_project,
    run,
    timeline_events,
)

if TYPE_CHECKING:
    from pathlib import Path

    from shared.state.store import Store, Transaction

pytestmark = pytest.mark.integration

STORY = StoryBrief(
    id="story-0000000a",
    title="Add two numbers",
    description="The calculator adds numbers.",
    acceptance_criteria=["add(2, 3) == 5"],
)
OTHER = STORY.model_copy(update={"id": "story-0000000b"})
CALC = '"""Calculator."""\n\n\ndef add(a: int, b: int) -> int:\n    return a + b\n'
# Too large to show whole within a quarter of 1,000 tokens, so it is summarised.
NUMBERS = '"""Numbers."""\n\n\ndef add_numbers(*xs: int) -> int:\n' + "    x = 1\n" * 200


def workspace(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


async def build(store: Store, pid: str, root: Path, story: StoryBrief = STORY) -> str:
    return await build_context(store, pid, story, Phase.CODE_GREEN, root, 1_000)


async def test_build_records_the_pack_and_reuses_summaries_of_unchanged_files(
    store: Store, tmp_path: Path
) -> None:
    pid = await register_project(store)
    root = workspace(tmp_path, {"calc/add.py": CALC, "calc/numbers.py": NUMBERS})
    text = await build(store, pid, root)
    assert text.startswith('<context story="story-0000000a" phase="CODE_GREEN"')
    assert "def add(a: int, b: int) -> int:\n    return a + b" in text
    stored = await context_store.load_pack(store.redis, pid, STORY.id)
    assert stored is not None
    assert {f.path: f.mode for f in stored.pack.files} == {
        "calc/add.py": "whole",
        "calc/numbers.py": "summary",
    }
    assert (stored.summaries_made, stored.summaries_reused) == (1, 0)

    assert await build(store, pid, root) == text
    again = await context_store.load_pack(store.redis, pid, STORY.id)
    assert again is not None
    assert (again.summaries_made, again.summaries_reused) == (0, 1)

    (root / "calc/numbers.py").write_text(NUMBERS + "\n\ndef more() -> None:\n    pass\n")
    assert "def more() -> None: ..." in await build(store, pid, root)


async def test_commit_runs_no_agent_so_it_gets_no_context(store: Store, tmp_path: Path) -> None:
    pid = await register_project(store)
    root = workspace(tmp_path, {"calc.py": CALC})
    assert await build_context(store, pid, STORY, Phase.COMMIT, root, 1_000) == ""
    assert await context_store.load_pack(store.redis, pid, STORY.id) is None


async def test_memory_is_bounded_newest_first_and_shown_to_the_agent(
    store: Store, tmp_path: Path
) -> None:
    pid = await register_project(store)
    for n in range(context_store.MEMORY_LIMIT + 5):
        await context_store.remember(store, pid, "code", f"note {n}")

    async def in_transaction(tx: Transaction) -> None:
        context_store.remember_in(tx, pid, "code", "from a transaction")

    await store.atomic(in_transaction)
    notes = await context_store.recall(store.redis, pid, "code", 100)
    assert len(notes) == context_store.MEMORY_LIMIT
    assert [n.note for n in notes[:2]] == ["from a transaction", "note 24"]
    text = await build(store, pid, workspace(tmp_path, {"calc.py": CALC}))
    assert '<memory role="code">\n- from a transaction\n- note 24\n' in text

    shown = await run(store, "context memory", {"agent": "code", "limit": 3}, project_id=pid)
    assert [n["note"] for n in shown.result["memory"]["code"]] == [
        "from a transaction",
        "note 24",
        "note 23",
    ]
    everyone = await run(store, "context memory", project_id=pid, actor=VIEWER)
    assert set(everyone.result["memory"]) == {"code"}


async def test_status_shows_recent_packs_one_story_and_the_cache(
    store: Store, tmp_path: Path
) -> None:
    pid = await register_project(store)
    root = workspace(tmp_path, {"calc/add.py": CALC, "calc/numbers.py": NUMBERS})
    await build(store, pid, root)
    await build(store, pid, root, OTHER)
    status = (await run(store, "context status", project_id=pid, actor=VIEWER)).result
    assert [p["story_id"] for p in status["packs"]] == [OTHER.id, STORY.id]
    assert status["packs"][0] | {"built_at": None} == {
        "story_id": OTHER.id,
        "phase": "CODE_GREEN",
        "role": "code",
        "tokens": status["packs"][0]["tokens"],
        "budget_tokens": 1_000,
        "whole": 1,
        "summary": 1,
        "omitted": 0,
        "built_at": None,
    }
    assert status["cache"] | {"summary_chars": 0} == {
        "summaries": 1,
        "summary_chars": 0,
        "stale": 0,
        "files_seen": 2,
        "packs_built": 2,
        "summaries_made": 1,
        "summaries_reused": 1,
    }
    one = await run(store, "context status", {"story_id": STORY.id}, project_id=pid)
    files = one.result["pack"]["pack"]["files"]
    assert [(f["path"], f["mode"]) for f in files] == [
        ("calc/numbers.py", "summary"),
        ("calc/add.py", "whole"),
    ]
    none = await run(store, "context status", {"story_id": "story-000000ff"}, project_id=pid)
    assert none.result["pack"] is None
    assert "story-000000ff" in none.result["note"]


async def test_optimize_drops_summaries_of_changed_or_vanished_files(
    store: Store, tmp_path: Path
) -> None:
    pid = await register_project(store)
    root = workspace(
        tmp_path, {"calc/add.py": CALC, "calc/numbers.py": NUMBERS, "calc/more.py": NUMBERS}
    )
    await build(store, pid, root)
    (root / "calc/more.py").unlink()
    (root / "calc/numbers.py").write_text(CALC)  # now small: shown whole, summary is stale
    await build(store, pid, root)
    before = await get_project(store, pid)

    outcome = await run(store, "context optimize", project_id=pid, actor=MEMBER)
    assert outcome.result["dropped"] == 2
    assert outcome.result["dropped_paths"] == ["calc/more.py", "calc/numbers.py"]
    assert outcome.result["kept"] == 0
    assert outcome.result["tokens_freed"] > 0
    assert await context_store.cached_summaries(store.redis, pid, ["calc/more.py"]) == {}
    assert await context_store.summary_index(store.redis, pid) == {}
    assert (await get_project(store, pid)).version == before.version + 1
    event = (await timeline_events(store, pid))[-1]
    assert (event.command, event.actor) == ("context optimize", MEMBER.name)
    assert event.payload["result"]["dropped"] == 2
    nothing = await run(store, "context optimize", project_id=pid, actor=MEMBER)
    assert (nothing.result["dropped"], nothing.result["tokens_freed"]) == (0, 0)


async def test_clear_cache_drops_every_summary_and_a_rebuild_makes_them_again(
    store: Store, tmp_path: Path
) -> None:
    pid = await register_project(store)
    root = workspace(tmp_path, {"calc/numbers.py": NUMBERS})
    await build(store, pid, root)
    cleared = await run(store, "context clear_cache", project_id=pid, actor=MEMBER)
    assert (cleared.result["dropped"], cleared.result["kept"]) == (1, 0)
    status = (await run(store, "context status", project_id=pid)).result
    assert (status["cache"]["summaries"], status["cache"]["summary_chars"]) == (0, 0)
    await build(store, pid, root)
    rebuilt = await context_store.load_pack(store.redis, pid, STORY.id)
    assert rebuilt is not None
    assert rebuilt.summaries_made == 1


@pytest.mark.parametrize("name", ["context optimize", "context clear_cache"])
async def test_viewers_may_look_but_not_prune(store: Store, name: str) -> None:
    pid = await register_project(store)
    with pytest.raises(Forbidden):
        await run(store, name, project_id=pid, actor=VIEWER)


async def test_optimize_racing_builds_keeps_summaries_and_index_in_step(
    store: Store, tmp_path: Path
) -> None:
    """Builds caching summaries while /context optimize prunes: the summaries and their index
    never disagree, and whatever survives matches the files the last scan saw."""
    pid = await make_project_in_state(store, ScrumState.IDLE)
    paths = [f"m{n}/numbers.py" for n in range(4)]
    roots = [workspace(tmp_path / str(n), {p: NUMBERS + f"# {n}\n"}) for n, p in enumerate(paths)]
    stories = [STORY.model_copy(update={"id": f"story-0000000{n}"}) for n in range(4)]
    builds = [build(store, pid, r, s) for r, s in zip(roots, stories, strict=True)]
    prunes = [run(store, "context optimize", project_id=pid) for _ in range(4)]
    await asyncio.gather(*builds, *prunes)
    index = await context_store.summary_index(store.redis, pid)
    cached = await context_store.cached_summaries(store.redis, pid, paths)
    assert set(cached) == set(index)
    assert all(cached[p].digest == index[p].digest for p in index)
    seen = await context_store.files_seen(store.redis, pid)
    assert all(index[p].digest == seen[p] for p in set(index) & set(seen))
