"""/tdd status, logs, overview and metrics: read back what the commands and phases recorded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from shared.domain.models import ScrumState
from shared.platform.errors import NotFound
from shared.state import timeline
from shared.state.timeline import TimelineEvent
from shared.workflow import cycles
from tests.factories import VIEWER, dump_project, make_project_in_state, run
from tests.integration.tdd_helpers import (
    TEST_ID,
    outcome,
    skip,
    sprint_with_cycles,
    take_current,
)

if TYPE_CHECKING:
    from shared.state.store import Store

pytestmark = pytest.mark.integration


async def read(store: Store, pid: str, name: str, **args: Any) -> dict[str, Any]:
    before = await dump_project(store.redis, pid)
    result = (await run(store, name, dict(args), project_id=pid, actor=VIEWER)).result
    assert await dump_project(store.redis, pid) == before  # a read changes nothing
    return result


async def refused_then_passed(store: Store, pid: str, story_id: str) -> None:
    """DESIGN refused once, then passed; TEST_RED is left queued."""
    for passed in (False, True):
        taken = await take_current(store, pid, story_id)
        await cycles.record(store, taken, outcome(taken, passed=passed))


async def test_status_shows_each_phase_with_its_evidence(store: Store) -> None:
    pid, (first, _) = await sprint_with_cycles(store)
    await refused_then_passed(store, pid, first)
    result = await read(store, pid, "tdd status", story_id=first)

    (view,) = result["cycles"]
    assert (view["phase"], view["status"], view["attempt"]) == ("TEST_RED", "queued", 0)
    design = view["phases"]["DESIGN"]
    assert (design["attempts"], design["recorded"], design["passed"]) == (2, 2, True)
    latest = design["latest"]
    assert (latest["attempt"], latest["gate_passed"], latest["commit_sha"]) == (2, True, "a1b2c3d")
    tests = latest["test_run"]
    assert (tests["exit_code"], tests["duration_s"], tests["test_ids"]) == (0, 1.5, [TEST_ID])
    assert tests["output_tail"] == "1 passed"
    assert "TEST_RED" not in view["phases"]


async def test_status_without_a_story_lists_the_active_cycles(store: Store) -> None:
    pid, story_ids = await sprint_with_cycles(store, started=2)
    await run(store, "tdd abort", {"story_id": story_ids[1]}, project_id=pid)
    result = await read(store, pid, "tdd status")
    assert [c["story_id"] for c in result["cycles"]] == [story_ids[0]]


async def test_status_and_overview_in_a_project_without_cycles(store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.IDLE)
    assert (await read(store, pid, "tdd status"))["cycles"] == []
    assert (await read(store, pid, "tdd overview"))["rows"] == []
    with pytest.raises(NotFound):
        await read(store, pid, "tdd status", story_id="story-0000000f")


async def test_logs_page_through_one_storys_events_newest_page_first(store: Store) -> None:
    pid, (first, second) = await sprint_with_cycles(store, started=2)
    await refused_then_passed(store, pid, first)
    await skip(store, pid, second)
    tool = TimelineEvent(actor="agent:qa", command="tool", payload={"story_id": first})
    await timeline.publish(store.redis, pid, tool)

    everything = await read(store, pid, "tdd logs", story_id=first, limit=500)
    commands = [e["command"] for e in everything["events"]]
    assert commands == [
        "tdd start",
        "tdd start",
        "phase started",
        "phase refused",
        "phase started",
        "phase passed",
    ]
    assert everything["next_cursor"] is None

    newest = await read(store, pid, "tdd logs", story_id=first, limit=4)
    older = await read(
        store, pid, "tdd logs", story_id=first, limit=4, before=newest["next_cursor"]
    )
    assert [e["command"] for e in older["events"]] + [
        e["command"] for e in newest["events"]
    ] == commands
    with_tools = await read(store, pid, "tdd logs", story_id=first, include_tools=True, limit=1)
    assert with_tools["events"][0]["command"] == "tool"


async def test_logs_without_a_story_show_every_cycle(store: Store) -> None:
    pid, (first, second) = await sprint_with_cycles(store, started=2)
    await skip(store, pid, second)
    result = await read(store, pid, "tdd logs")
    stories = {e["payload"].get("story_id") for e in result["events"]}
    assert {first, second} <= stories
    assert "sprint start" not in [e["command"] for e in result["events"]]


async def test_overview_has_a_row_per_sprint_story(store: Store) -> None:
    pid, (first, second) = await sprint_with_cycles(store)
    await refused_then_passed(store, pid, first)
    result = await read(store, pid, "tdd overview")
    rows = {r["story_id"]: r for r in result["rows"]}
    assert (rows[first]["phase"], rows[first]["status"], rows[first]["attempts_total"]) == (
        "TEST_RED",
        "queued",
        2,
    )
    assert rows[second]["cycle_id"] is None
    assert result["counts"] == {"queued": 1, "not started": 1}


async def test_metrics_count_cycles_attempts_and_refusals(store: Store) -> None:
    pid, (first, second) = await sprint_with_cycles(store, started=2)
    await refused_then_passed(store, pid, first)
    await run(store, "tdd pause", {"story_id": second}, project_id=pid)
    result = await read(store, pid, "tdd metrics")
    metrics = result["metrics"]
    assert len(result["sprint_ids"]) == 1
    assert (metrics["cycles"], metrics["active"], metrics["paused"]) == (2, 1, 1)
    assert metrics["gate_refusals"] == 1
    design = metrics["phases"][0]
    assert (design["phase"], design["attempts"], design["passed"]) == ("DESIGN", 2, 1)
    assert design["mean_attempts"] == 2.0
    assert design["mean_time_in_phase_s"] >= 0
    assert design["mean_test_s"] == 1.5
