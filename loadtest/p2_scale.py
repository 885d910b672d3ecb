"""P2: a command must cost the same with 10 stories or 10,000 (design.md §3).

Two projects are seeded by real `backlog add_story` commands. Each command is then timed over
HTTP, one request at a time (no queueing in the numbers), alternating the two projects block by
block. Commands that consume the state (`sprint plan`, and `add_story` growing the small backlog)
get the seeded state put back (RESTORE of the DUMPed keys) before each block; the restore is
not timed.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass

from loadtest.driver import Driver, RequestFactory, RequestSpec
from loadtest.scenario import Bench, Row, Section, fmt, json_body
from loadtest.seeding import Snapshot
from loadtest.stats import Goal, percentile, ratio

__all__ = ["GOAL", "run_p2"]

GOAL = Goal("<=", 1.3)
SMALL, LARGE = "bench-small", "bench-large"
_ROUNDS = 10  # blocks per command and size; the small backlog grows by at most one block


@dataclass(frozen=True)
class _Command:
    label: str
    body: bytes
    ok: frozenset[int]
    consumes: bool  # the state must be restored before each block


_COMMANDS = (
    _Command(
        "backlog add_story",
        json_body({"command": "backlog add_story", "args": {"title": "p2 story", "priority": 3}}),
        frozenset({201}),
        consumes=True,
    ),
    _Command("state", json_body({"command": "state"}), frozenset({200}), consumes=False),
    _Command(
        "sprint plan (5 stories)",
        json_body({"command": "sprint plan", "args": {"capacity": 5, "goal": "p2"}}),
        frozenset({201}),
        consumes=True,
    ),
)


async def run_p2(bench: Bench) -> Section:
    cfg = bench.config
    sizes = {SMALL: cfg.small_backlog, LARGE: cfg.large_backlog}
    seed_s = {}
    for project_id, count in sizes.items():
        await bench.seeder.project(project_id)
        seed_s[project_id] = await bench.seeder.stories(project_id, count)
    snapshots = {p: await Snapshot.take(bench.raw, p) for p in sizes}
    latencies: dict[tuple[str, str], list[float]] = defaultdict(list)
    errors: dict[tuple[str, str], int] = defaultdict(int)
    restore_s: list[float] = []
    async with Driver(
        bench.api.base_url,
        concurrency=1,
        headers=bench.auth,
        timeout_s=cfg.request_timeout_s,
        client=cfg.client,
    ) as driver:
        for project_id in sizes:  # open the connection, warm both projects' paths
            await driver.run(_factory(project_id, _COMMANDS[1]), duration_s=5, max_requests=20)
        for command in _COMMANDS:
            blocks = cfg.plan_samples if command.label.startswith("sprint") else _ROUNDS
            per_block = (
                1 if command.label.startswith("sprint") else math.ceil(cfg.samples / _ROUNDS)
            )
            for block in range(blocks):
                order = list(sizes) if block % 2 == 0 else list(reversed(sizes))
                for project_id in order:
                    if command.consumes:
                        began = time.perf_counter()
                        await snapshots[project_id].restore(bench.raw)
                        restore_s.append(time.perf_counter() - began)
                    result = await driver.run(
                        _factory(project_id, command),
                        duration_s=cfg.duration_s,
                        max_requests=per_block,
                        ok_statuses=command.ok,
                    )
                    latencies[command.label, project_id] += result.latencies_s
                    errors[command.label, project_id] += result.summary.errors
    for snapshot in snapshots.values():
        await snapshot.restore(bench.raw)
    return _section(bench, sizes, latencies, errors, seed_s, restore_s)


def _factory(project_id: str, command: _Command) -> RequestFactory:
    spec = RequestSpec("POST", f"/api/v1/projects/{project_id}/commands", command.body)

    def request(_worker: int, _number: int) -> RequestSpec:
        return spec

    return request


def _section(
    bench: Bench,
    sizes: dict[str, int],
    latencies: dict[tuple[str, str], list[float]],
    errors: dict[tuple[str, str], int],
    seed_s: dict[str, float],
    restore_s: list[float],
) -> Section:
    small, large = sizes[SMALL], sizes[LARGE]
    rows = []
    lines = [
        "| command | stories | n | p50 ms | p95 ms | p99 ms | max ms | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for command in _COMMANDS:
        p50 = {}
        for project_id, count in sizes.items():
            ms = [x * 1000 for x in latencies[command.label, project_id]]
            p50[project_id] = percentile(ms, 50)
            lines.append(
                f"| {command.label} | {count:,} | {len(ms)} | {p50[project_id]:.2f} "
                f"| {percentile(ms, 95):.2f} | {percentile(ms, 99):.2f} "
                f"| {max(ms, default=math.nan):.2f} | {errors[command.label, project_id]} |"
            )
        rows.append(
            Row.checked(
                f"P2 `{command.label}` p50, {large:,} vs {small:,} stories",
                fmt(p50[LARGE], "ms", 2),
                fmt(p50[SMALL], "ms", 2),
                ratio(p50[LARGE], p50[SMALL]),
                GOAL,
            )
        )
    seeded = sum(sizes.values())
    lines += [
        "",
        f"Seeding: {seeded:,} `backlog add_story` commands in-process through the executor, "
        f"{sum(seed_s.values()):.1f} s ({seeded / max(sum(seed_s.values()), 1e-9):,.0f} commands/s). "
        f"Restores before consuming blocks: {len(restore_s)}, median "
        f"{percentile(restore_s, 50) * 1000:.0f} ms (not timed in the latencies).",
    ]
    title = f"P2: command latency, {small:,} vs {large:,} stories (sequential, over HTTP)"
    return Section(title, rows, lines)
