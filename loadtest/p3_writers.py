"""P3: many writers on one project. Goodput, optimistic-locking retries, and zero lost updates.

Each variant writes `backlog add_story` to a fresh project. Over HTTP the driver keeps every
acknowledged (201) story id; in-process the executor runs on a `CountingStore` that counts
`Store.atomic` attempts. Afterwards every acknowledged id must be in the project's story index,
and the index must have grown by exactly the number of acknowledgements.

Over HTTP, retries are read from the project's sequence counter: `add_story` INCRs it once per
attempt, outside MULTI, so `sequence delta - successes` is the number of re-run transactions.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

from loadtest.driver import Driver, LoadResult, RequestSpec
from loadtest.scenario import Bench, Row, Section, cpu_cells, fmt, json_body, limited_by
from loadtest.seeding import CountingStore, Seeder, missing_members, story_count
from loadtest.stats import Goal, ratio
from shared.platform.errors import VersionConflict
from shared.state import keys

__all__ = ["GOAL", "run_p3"]

GOAL = Goal(">=", 0.5)
NO_LOSS = Goal("<=", 0)
_BODY = json_body({"command": "backlog add_story", "args": {"title": "p3 story", "priority": 3}})


@dataclass(frozen=True)
class _Outcome:
    variant: str
    writers: int
    ok: int
    wall_s: float
    conflicts: int  # 409: the store gave up after max_attempts
    other_errors: int
    retries: int
    lost: int  # acknowledged but absent
    phantom: int  # present but never acknowledged
    load: LoadResult | None = None
    cpu_s: float = float("nan")

    @property
    def goodput(self) -> float:
        return self.ok / self.wall_s if self.wall_s > 0 else float("nan")

    @property
    def retries_per_update(self) -> float:
        return self.retries / self.ok if self.ok else float("nan")


async def run_p3(bench: Bench) -> Section:
    writers = bench.config.writers
    http = {n: await _over_http(bench, n) for n in (1, writers)}
    inproc = {n: await _in_process(bench, n) for n in (1, writers)}
    return _section(writers, http, inproc)


async def _sequence(bench: Bench, project_id: str) -> int:
    return int(await bench.redis.get(keys.sequence(project_id)) or 0)


async def _over_http(bench: Bench, writers: int) -> _Outcome:
    cfg = bench.config
    project_id = f"bench-http-w{writers}"
    await bench.seeder.project(project_id)
    spec = RequestSpec("POST", f"/api/v1/projects/{project_id}/commands", _BODY)

    def request(_worker: int, _number: int) -> RequestSpec:
        return spec

    ok = frozenset({201})
    async with Driver(
        bench.api.base_url,
        concurrency=writers,
        headers=bench.auth,
        timeout_s=cfg.request_timeout_s,
        client=cfg.client,
    ) as driver:
        if cfg.warmup_s > 0:
            await driver.run(
                request, duration_s=cfg.warmup_s, max_requests=cfg.max_requests, ok_statuses=ok
            )
        count_before, seq_before = (
            await story_count(bench.redis, project_id),
            await _sequence(bench, project_id),
        )
        result = await driver.run(
            request,
            duration_s=cfg.duration_s,
            max_requests=cfg.max_requests,
            ok_statuses=ok,
            keep_bodies=True,
            watch_pids=bench.pids(bench.api),
        )
    acked = [json.loads(b)["result"]["story_id"] for b in result.bodies]
    return await _check(
        bench,
        project_id,
        variant="HTTP",
        writers=writers,
        acked=acked,
        wall_s=result.wall_s,
        conflicts=result.statuses.get(409, 0),
        other_errors=result.summary.errors - result.statuses.get(409, 0),
        retries=await _sequence(bench, project_id) - seq_before - len(acked),
        count_before=count_before,
        load=result,
    )


async def _in_process(bench: Bench, writers: int) -> _Outcome:
    cfg = bench.config
    project_id = f"bench-inproc-w{writers}"
    await bench.seeder.project(project_id)
    store = CountingStore(bench.redis)
    seeder = Seeder(store)
    count_before = await story_count(bench.redis, project_id)
    acked: list[str] = []
    failures = {"conflicts": 0, "other": 0}
    issued = 0
    deadline = time.perf_counter() + cfg.duration_s

    async def writer() -> None:
        nonlocal issued
        while issued < cfg.inproc_updates and time.perf_counter() < deadline:
            issued += 1
            try:
                outcome = await seeder.run("backlog add_story", {"title": "p3 story"}, project_id)
            except VersionConflict:
                failures["conflicts"] += 1
                continue
            acked.append(outcome.result["story_id"])

    cpu_before, began = time.process_time(), time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu_before
    return await _check(
        bench,
        project_id,
        variant="in-process",
        writers=writers,
        acked=acked,
        wall_s=wall,
        conflicts=failures["conflicts"],
        other_errors=failures["other"],
        retries=store.attempts - store.commits,
        count_before=count_before,
        cpu_s=cpu,
    )


async def _check(
    bench: Bench, project_id: str, *, acked: list[str], count_before: int, **fields: object
) -> _Outcome:
    missing = await missing_members(bench.redis, project_id, acked)
    landed = await story_count(bench.redis, project_id) - count_before
    return _Outcome(
        ok=len(acked),
        lost=missing,
        phantom=landed - (len(acked) - missing),
        **fields,  # type: ignore[arg-type]
    )


def _section(writers: int, http: dict[int, _Outcome], inproc: dict[int, _Outcome]) -> Section:
    rows = []
    for variant, runs in (("over HTTP", http), ("in-process executor", inproc)):
        many, one = runs[writers], runs[1]
        rows.append(
            Row.checked(
                f"P3 goodput {variant}, {writers} writers vs 1 on one project",
                fmt(many.goodput, "upd/s"),
                fmt(one.goodput, "upd/s"),
                ratio(many.goodput, one.goodput),
                GOAL,
            )
        )
    rows.append(
        Row(
            f"P3 retries per update, {writers} writers (1 writer as floor)",
            f"{inproc[writers].retries_per_update:.2f} in-process, "
            f"{http[writers].retries_per_update:.2f} HTTP",
            f"{inproc[1].retries_per_update:.2f} / {http[1].retries_per_update:.2f}",
            float("nan"),
            None,
        )
    )
    everything = [*http.values(), *inproc.values()]
    lost = sum(o.lost + abs(o.phantom) for o in everything)
    rows.append(
        Row.checked(
            "P3 lost (or phantom) updates, all runs (ratio column = count)",
            f"{sum(o.lost for o in everything)} lost, {sum(o.phantom for o in everything)} phantom",
            f"{sum(o.ok for o in everything):,} acknowledged",
            float(lost),
            NO_LOSS,
        )
    )
    lines = [
        "| variant | writers | acknowledged | upd/s | p50 ms | p99 ms | 409 | other errors "
        "| retries/update | lost | phantom | cores: generator | server | valkey | other | limited by |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: | ---: | --- |",
    ]
    for o in everything:
        if o.load is not None:
            s = o.load.summary
            latency = f"{s.p50_ms:.2f} | {s.p99_ms:.2f}"
            cores = " | ".join([*cpu_cells(o.load), limited_by(o.load)])
        else:
            latency = "- | -"
            cores = (
                f"{o.cpu_s / o.wall_s:.2f} (generator and server are one process) | - | - | - | -"
            )
        lines.append(
            f"| {o.variant} | {o.writers} | {o.ok:,} | {o.goodput:,.0f} | {latency} | {o.conflicts} "
            f"| {o.other_errors} | {o.retries_per_update:.2f} | {o.lost} | {o.phantom} | {cores} |"
        )
    return Section(f"P3: {writers} concurrent writers on one project vs 1", rows, lines)
