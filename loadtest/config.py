"""Benchmark settings from `AWF_BENCH_*` environment variables; the defaults finish in < 3 min."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

__all__ = ["BenchConfig", "env_name"]

_PREFIX = "AWF_BENCH_"
_ENV_NAMES = {"max_requests": "REQUESTS"}  # the field's variable when it is not its own name
_DEFAULT_RESULTS = Path(__file__).resolve().parent / "RESULTS_API.md"


@dataclass(frozen=True)
class BenchConfig:
    """Every run is bounded twice: by time (`duration_s`) and by request count (`max_requests`)."""

    duration_s: float = 4.0  # AWF_BENCH_DURATION_S: each throughput run (P1, P3 over HTTP)
    warmup_s: float = 1.0  # AWF_BENCH_WARMUP_S: unmeasured load before each throughput run
    concurrency: int = 32  # AWF_BENCH_CONCURRENCY: keep-alive clients in P1
    max_requests: int = 50_000  # AWF_BENCH_REQUESTS: cap per run, whatever the duration
    rounds: int = 6  # AWF_BENCH_ROUNDS: P1 alternates floor/ours this many times
    writers: int = 50  # AWF_BENCH_WRITERS: concurrent writers on one project in P3
    inproc_updates: int = 1_500  # AWF_BENCH_INPROC_UPDATES: P3 in-process updates per variant
    small_backlog: int = 10  # AWF_BENCH_SMALL_BACKLOG
    large_backlog: int = 10_000  # AWF_BENCH_LARGE_BACKLOG
    samples: int = 150  # AWF_BENCH_SAMPLES: P2 sequential requests per command and size
    plan_samples: int = 30  # AWF_BENCH_PLAN_SAMPLES: P2 sprint plans (one restore each)
    idle_s: float = 5.0  # AWF_BENCH_IDLE_S: P7 idle time before the memory reading
    budget_s: float = 240.0  # AWF_BENCH_BUDGET_S: the whole bench is cancelled after this
    request_timeout_s: float = 10.0  # AWF_BENCH_REQUEST_TIMEOUT_S
    results: Path = _DEFAULT_RESULTS  # AWF_BENCH_RESULTS: where the markdown report goes
    profile_dir: Path | None = None  # AWF_BENCH_PROFILE_DIR: run each server under cProfile
    # AWF_BENCH_CLIENT: raw (a lean asyncio HTTP/1.1 client, about 1/5 of httpx's CPU per
    # request) or httpx. With httpx the generator saturates a core before the floor app does.
    client: Literal["httpx", "raw"] = "raw"
    only: str = "P1,P2,P3,P7"  # AWF_BENCH_ONLY: a subset, e.g. "P1" or "P2,P3"

    @property
    def selected(self) -> tuple[str, ...]:
        return tuple(p.strip().upper() for p in self.only.split(",") if p.strip())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BenchConfig:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(env_name(f.name))
            if raw is None or raw.strip() == "":
                continue
            values[f.name] = _parse(f.name, raw.strip(), f.type)
        config = cls(**values)  # type: ignore[arg-type]
        config.validate()
        return config

    def validate(self) -> None:
        """Raise ValueError naming the variables whose values cannot bound a run."""
        numbers = {f.name: getattr(self, f.name) for f in fields(self)}
        bad = [
            name
            for name, value in numbers.items()
            if isinstance(value, int | float) and (value < 0 if name == "warmup_s" else value <= 0)
        ]
        if bad:
            names = ", ".join(env_name(n) for n in bad)
            raise ValueError(f"{names} must be positive")
        if self.client not in ("httpx", "raw"):
            raise ValueError(f"{_PREFIX}CLIENT={self.client!r}: choose httpx or raw")
        unknown = set(self.selected) - {"P1", "P2", "P3", "P7"}
        if unknown or not self.selected:
            raise ValueError(f"{_PREFIX}ONLY={self.only!r}: choose among P1, P2, P3, P7")
        if self.small_backlog < 5:
            raise ValueError(f"{_PREFIX}SMALL_BACKLOG must be at least 5 (sprint plan takes 5)")
        if self.large_backlog < self.small_backlog:
            raise ValueError(f"{_PREFIX}LARGE_BACKLOG must not be below {_PREFIX}SMALL_BACKLOG")


def env_name(field_name: str) -> str:
    """The environment variable of a field: `duration_s` -> `AWF_BENCH_DURATION_S`."""
    return _PREFIX + _ENV_NAMES.get(field_name, field_name.upper())


def _parse(name: str, raw: str, kind: object) -> object:
    text = str(kind)
    try:
        if "Path" in text:
            return Path(raw)
        if "float" in text:
            return float(raw)
        if "int" in text:
            return int(raw.replace("_", ""))
    except ValueError:
        raise ValueError(f"{_PREFIX}{name.upper()}={raw!r} is not a valid {text}") from None
    return raw
