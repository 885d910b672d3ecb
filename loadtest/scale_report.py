"""The scale-out section: throughput per replica count, its ratio to one replica, and who used
which CPU (generator, proxy, each replica, Valkey, the rest of the machine). Pure: no I/O."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from loadtest.driver import LoadResult
from loadtest.scale_config import ScaleConfig, scale_env_name
from loadtest.scaleout import ScaleRun
from loadtest.scenario import Row, Section, fmt
from loadtest.stats import ratio

__all__ = ["CpuUse", "cpu_use", "pool_runs", "scale_section"]

_JOURNEY = {"read": "`GET /projects/{id}`", "mix": "reads + 1 write in {k}"}


@dataclass(frozen=True)
class CpuUse:
    """Cores busy during a run (CPU seconds per wall second; 1.0 = one core all along)."""

    generator: float
    proxy: float  # NaN when the run had no proxy
    replicas: tuple[float, ...]
    valkey: float
    other: float
    busy: float

    def cells(self) -> list[str]:
        each = " / ".join(f"{c:.2f}" for c in self.replicas)
        proxy = "-" if math.isnan(self.proxy) else f"{self.proxy:.2f}"
        return [f"{self.generator:.2f}", proxy, each, f"{self.valkey:.2f}", f"{self.other:.2f}"]


def cpu_use(result: LoadResult) -> CpuUse:
    procs = result.process_cpu_s
    names = sorted((n for n in procs if n.startswith("replica ")), key=lambda n: int(n.split()[1]))
    return CpuUse(
        generator=result.cpu_share(result.generator_cpu_s),
        proxy=result.cpu_share(procs["proxy"]) if "proxy" in procs else math.nan,
        replicas=tuple(result.cpu_share(procs[n]) for n in names),
        valkey=result.cpu_share(procs.get("redis", math.nan)),
        other=max(0.0, result.cpu_share(result.other_cpu_s)),  # clock-tick rounding
        busy=result.cpu_share(result.machine_cpu_s),
    )


def pool_runs(runs: Sequence[ScaleRun]) -> dict[tuple[str, str, int], LoadResult]:
    """(journey, mode, replicas) -> the rounds of that run pooled into one result."""
    groups: dict[tuple[str, str, int], list[LoadResult]] = {}
    for run in runs:
        groups.setdefault((run.journey, run.mode, run.replicas), []).append(run.result)
    return {key: LoadResult.pooled(results) for key, results in groups.items()}


def scale_section(config: ScaleConfig, runs: Sequence[ScaleRun], cores: int) -> Section:
    pooled = pool_runs(runs)
    rows: list[Row] = []
    details = _intro(config, cores)
    for journey in config.selected_journeys:
        for mode in config.selected_modes:
            counts = sorted(n for j, m, n in pooled if (j, m) == (journey, mode))
            if not counts:
                continue
            results = [pooled[(journey, mode, n)] for n in counts]
            rows += _rows(config, journey, mode, counts, results, cores)
            details += _table(config, journey, mode, counts, results, cores)
    return Section("Scale-out: 1 to 3 API replicas on one Valkey", rows, details)


def _label(config: ScaleConfig, journey: str, mode: str) -> str:
    how = "via the L4 proxy" if mode == "proxy" else "client spreads connections"
    return f"Scale-out {_JOURNEY[journey].replace('{k}', str(config.write_every))}, {how}"


def _rows(
    config: ScaleConfig,
    journey: str,
    mode: str,
    counts: list[int],
    results: list[LoadResult],
    cores: int,
) -> list[Row]:
    label, one = _label(config, journey, mode), results[0].summary.throughput
    rows = [
        Row(
            f"{label}: {n} replicas vs 1",
            fmt(r.summary.throughput, "req/s"),
            fmt(one, "req/s"),
            ratio(r.summary.throughput, one),
            None,
        )
        for n, r in zip(counts, results, strict=True)
        if n > 1
    ]
    use = cpu_use(results[-1])
    rows.append(
        Row(
            f"{label}: cores used at {counts[-1]} replicas "
            "(generator / proxy / replicas / valkey / other)",
            f"{use.generator:.2f} / {'-' if math.isnan(use.proxy) else f'{use.proxy:.2f}'} / "
            f"{sum(use.replicas):.2f} / {use.valkey:.2f} / {use.other:.2f}",
            f"{cores} cores",
            math.nan,
            None,
        )
    )
    return rows


def _table(
    config: ScaleConfig,
    journey: str,
    mode: str,
    counts: list[int],
    results: list[LoadResult],
    cores: int,
) -> list[str]:
    one = results[0].summary.throughput
    lines = [
        f"### {_label(config, journey, mode)}",
        "",
        "| replicas | req/s | vs 1 | p50 ms | p99 ms | errors "
        "| cores: generator | proxy | each replica | valkey | other | busy |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |",
    ]
    for n, r in zip(counts, results, strict=True):
        s, use = r.summary, cpu_use(r)
        lines.append(
            f"| {n} | {s.throughput:,.0f} | {ratio(s.throughput, one):.2f} | {s.p50_ms:.2f} "
            f"| {s.p99_ms:.2f} | {s.errors} | " + " | ".join(use.cells()) + f" | "
            f"{use.busy:.2f} of {cores} |"
        )
    return [*lines, ""]


def _intro(config: ScaleConfig, cores: int) -> list[str]:
    return [
        f"{config.replicas} `python -m services.api` replicas (one uvicorn process each) on one "
        f"private Valkey, all running for the whole bench; {config.concurrency} keep-alive "
        f"connections from this process (the `raw` client), {config.duration_s:g} s per run "
        f"after {config.warmup_s:g} s of warm-up, capped at {config.max_requests:,} requests; "
        f"{config.rounds} rounds (1..{config.replicas} replicas, then back), pooled. "
        f"*proxy*: through `loadtest/lb_proxy.py`, a round-robin L4 balancer in its own "
        "process (nginx `stream` does the same job: per-connection balancing, bytes copied both "
        "ways). *client spreads*: connection i goes straight to replica i mod n, no extra hop. "
        f"The `mix` journey spreads its connections over {config.projects} projects and makes "
        f"one request in {config.write_every} a `backlog add_story` command.",
        "",
        f"The cores columns are CPU seconds per wall second of each process during the run: the "
        f"generator (this process), the proxy, each replica (idle ones included), Valkey, and "
        f"everything else on the machine (other jobs, the kernel). This machine has **{cores} "
        "cores** (`nproc`), shared by all of them: once generator + proxy + replicas + valkey + "
        f"other reach {cores}, a further replica cannot add throughput here, and the ratio "
        "shows the machine's limit, not the API's. What each extra replica can use is what is "
        "left of the cores after the generator and the proxy.",
        "",
    ]


def settings_line(config: ScaleConfig) -> str:
    names = ("results",)
    return ", ".join(
        f"`{scale_env_name(f)}={getattr(config, f)}`"
        for f in config.__dataclass_fields__
        if f not in names
    )
