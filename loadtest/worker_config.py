"""Worker-bench settings from `AWF_WBENCH_*` environment variables; the defaults finish in ~2 min."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

__all__ = ["WorkerBenchConfig", "wbench_env_name"]

_PREFIX = "AWF_WBENCH_"
_DEFAULT_RESULTS = Path(__file__).resolve().parent / "RESULTS_WORKER.md"
_BENCHMARKS = ("P4", "P5", "P6")


@dataclass(frozen=True)
class WorkerBenchConfig:
    """Every run is bounded by a count and by time; the whole bench by `budget_s`."""

    pickup_jobs: int = 1_000  # AWF_WBENCH_PICKUP_JOBS: P4 jobs per worker variant and round
    pickup_rate: float = 100.0  # AWF_WBENCH_PICKUP_RATE: P4 mean enqueues per second (Poisson)
    pickup_rounds: int = 2  # AWF_WBENCH_PICKUP_ROUNDS: P4 alternates ours/bare, then bare/ours
    poll_delay_s: float = 0.05  # AWF_WBENCH_POLL_DELAY_S: both P4 workers poll this often
    stories: int = 3  # AWF_WBENCH_STORIES: P5 sprint size (add, subtract, multiply, divide, ...)
    parallel_cycles: int = 1  # AWF_WBENCH_PARALLEL_CYCLES: P5 TDD cycles at once
    sprint_timeout_s: float = 150.0  # AWF_WBENCH_SPRINT_TIMEOUT_S: P5 sprint must finish within
    rtt_samples: int = 2_000  # AWF_WBENCH_RTT_SAMPLES: bare Redis PINGs for P5's floor
    idle_s: float = 10.0  # AWF_WBENCH_IDLE_S: P6 idle time before the second memory reading
    budget_s: float = 300.0  # AWF_WBENCH_BUDGET_S: the whole bench is cancelled after this
    results: Path = _DEFAULT_RESULTS  # AWF_WBENCH_RESULTS: where the markdown report goes
    only: str = "P4,P5,P6"  # AWF_WBENCH_ONLY: a subset, e.g. "P5" or "P4,P6"

    @property
    def selected(self) -> tuple[str, ...]:
        return tuple(p.strip().upper() for p in self.only.split(",") if p.strip())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WorkerBenchConfig:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(wbench_env_name(f.name), "").strip()
            if raw:
                values[f.name] = _parse(f.name, raw, str(f.type))
        config = cls(**values)  # type: ignore[arg-type]
        config.validate()
        return config

    def validate(self) -> None:
        """Raise ValueError naming the variables whose values cannot bound a run."""
        numbers = {f.name: getattr(self, f.name) for f in fields(self)}
        bad = [n for n, v in numbers.items() if isinstance(v, int | float) and v <= 0]
        if bad:
            raise ValueError(f"{', '.join(wbench_env_name(n) for n in bad)} must be positive")
        unknown = set(self.selected) - set(_BENCHMARKS)
        if unknown or not self.selected:
            raise ValueError(f"{_PREFIX}ONLY={self.only!r}: choose among {', '.join(_BENCHMARKS)}")
        if not 1 <= self.stories <= 6:
            raise ValueError(f"{_PREFIX}STORIES must be within 1..6 (the scripted calculator ops)")


def wbench_env_name(field_name: str) -> str:
    """The environment variable of a field: `idle_s` -> `AWF_WBENCH_IDLE_S`."""
    return _PREFIX + field_name.upper()


def _parse(name: str, raw: str, kind: str) -> object:
    try:
        if "Path" in kind:
            return Path(raw)
        if "float" in kind:
            return float(raw)
        if "int" in kind:
            return int(raw.replace("_", ""))
    except ValueError:
        raise ValueError(f"{wbench_env_name(name)}={raw!r} is not a valid {kind}") from None
    return raw
