"""`uv run python -m loadtest`: every benchmark in one run, then `loadtest/RESULTS.md`.

Runs the API bench (P1-P3, P7 API), the worker bench (P4, P6, P7 worker), the Discord bench
(P5) and the scale-out bench one after the other, each within its own budget, and writes one
file: the summary in the issue's numbering, then each bench's full report as a section (the
per-bench RESULTS_*.md files belong to the per-bench commands and are left alone). A bench that
fails is reported as failed and the others still run. `--only api,scale` (or `AWF_LOADTEST_ONLY`) picks a
subset. Exit status 0 even when a goal is missed: this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path

from loadtest import bench_api, bench_discord, bench_scale, bench_worker
from loadtest.combined_report import BenchOutcome, loadavg, machine_lines, render
from loadtest.config import BenchConfig, env_name
from loadtest.discord_ack import AckConfig
from loadtest.miss_notes import miss_notes
from loadtest.scale_config import ScaleConfig
from loadtest.scale_report import settings_line
from loadtest.summary import IssueLine, discord_lines, section_lines, summary_markdown
from loadtest.worker_config import WorkerBenchConfig, wbench_env_name

__all__ = ["BENCHES", "main", "selected_benches"]

BENCHES = ("api", "worker", "discord", "scale")
_HERE = Path(__file__).resolve().parent
# () -> the summary lines, the settings and the bench's full markdown report
_Run = Callable[[], tuple[list[IssueLine], str, str]]


def selected_benches(only: str | None) -> tuple[str, ...]:
    """The benches named in `only` (comma-separated), in the order they run; all when empty."""
    names = [n.strip().lower() for n in (only or "").split(",") if n.strip()]
    unknown = set(names) - set(BENCHES)
    if unknown:
        raise ValueError(f"unknown bench {', '.join(sorted(unknown))}: choose among {BENCHES}")
    return tuple(b for b in BENCHES if b in names) if names else BENCHES


def _api() -> tuple[list[IssueLine], str, str]:
    config = BenchConfig.from_env()
    report, sections = asyncio.run(bench_api.run(config))
    skip = ("results", "profile_dir")
    settings = ", ".join(
        f"`{env_name(f.name)}={getattr(config, f.name)}`"
        for f in fields(config)
        if f.name not in skip
    )
    return section_lines("api", sections), settings, report


def _worker() -> tuple[list[IssueLine], str, str]:
    config = WorkerBenchConfig.from_env()
    report, sections = asyncio.run(bench_worker.run(config))
    settings = ", ".join(
        f"`{wbench_env_name(f.name)}={getattr(config, f.name)}`"
        for f in fields(config)
        if f.name != "results"
    )
    return section_lines("worker", sections), settings, report


def _discord() -> tuple[list[IssueLine], str, str]:
    budget_s = float(os.environ.get("AWF_BENCH_BUDGET_S") or 170.0)
    ack, failovers, elapsed = asyncio.run(bench_discord.run(budget_s))
    rows = bench_discord.summary_rows(ack, failovers)
    c = AckConfig()
    settings = (
        f"`AWF_BENCH_BUDGET_S={budget_s:g}`; {c.requests:,} interactions and as many `/livez` at "
        f"concurrency {c.concurrency} on 2 replicas, {bench_discord.KILLS} leader kills"
    )
    return discord_lines(rows), settings, bench_discord.render(ack, failovers, elapsed)


def _scale() -> tuple[list[IssueLine], str, str]:
    config = ScaleConfig.from_env()
    report, sections = asyncio.run(bench_scale.run(config))
    return section_lines("scale", sections), settings_line(config), report


_RUNS: dict[str, tuple[_Run, str]] = {  # name -> (run, its own command)
    "api": (_api, "uv run python -m loadtest.bench_api"),
    "worker": (_worker, "uv run python -m loadtest.bench_worker"),
    "discord": (_discord, "uv run python -m loadtest.bench_discord"),
    "scale": (_scale, "uv run python -m loadtest.bench_scale"),
}


def _run_one(name: str) -> tuple[list[IssueLine], BenchOutcome]:
    run, command = _RUNS[name]
    print(f"== {name} bench ({command})", file=sys.stderr, flush=True)
    began = time.perf_counter()
    try:
        lines, settings, report = run()
        status = "ok"
    except Exception as exc:  # a failed bench is reported; the others still run
        lines, settings, report = [], "-", ""
        status = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        print(f"{name} bench {status}", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - began
    return lines, BenchOutcome(name, command, report, elapsed, status, settings)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m loadtest", description=__doc__)
    parser.add_argument(
        "--only", default=os.environ.get("AWF_LOADTEST_ONLY"), help=",".join(BENCHES)
    )
    parser.add_argument("--out", type=Path, default=_HERE, help="directory of RESULTS.md")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = _parse(argv)
    try:
        benches = selected_benches(args.only)
        BenchConfig.from_env(), WorkerBenchConfig.from_env(), ScaleConfig.from_env()
    except ValueError as exc:
        sys.exit(f"invalid benchmark settings: {exc}")
    args.out.mkdir(parents=True, exist_ok=True)
    load_at_start, began = loadavg(), time.perf_counter()
    lines: list[IssueLine] = []
    outcomes: list[BenchOutcome] = []
    for name in benches:
        bench_lines, outcome = _run_one(name)
        lines += bench_lines
        outcomes.append(outcome)
    elapsed = time.perf_counter() - began
    results = args.out / "RESULTS.md"
    machine = machine_lines(load_at_start)
    results.write_text(render(outcomes, lines, machine, elapsed, miss_notes(lines)))
    print("\n".join(summary_markdown(lines)))
    print(f"\nfull report: {results}")


if __name__ == "__main__":
    main()
