"""Chaos-suite settings from `AWF_CHAOS_*` environment variables; the defaults finish in ~5 min."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

__all__ = ["SCENARIOS", "ChaosConfig", "chaos_env_name"]

_PREFIX = "AWF_CHAOS_"
_DEFAULT_RESULTS = Path(__file__).resolve().parent / "RESULTS_CHAOS.md"
# REDIS: kill -9 Valkey mid-sprint; API: kill -9 a replica under load; WORKER: kill -9 a worker
# mid-phase; GATEWAY: kill -9 the gateway leader.
SCENARIOS = ("REDIS", "API", "WORKER", "GATEWAY")


@dataclass(frozen=True)
class ChaosConfig:
    """Every scenario is bounded by time; the whole suite by `budget_s`."""

    decision_rate: float = 4.0  # AWF_CHAOS_DECISION_RATE: REDIS approvals/rejections per second
    write_rate: float = 20.0  # AWF_CHAOS_WRITE_RATE: REDIS non-decision writes per second
    kill_after_s: float = 8.0  # AWF_CHAOS_KILL_AFTER_S: REDIS/API load before the kill
    down_s: float = 2.0  # AWF_CHAOS_DOWN_S: REDIS seconds between kill -9 and restart
    sprint_timeout_s: float = 240.0  # AWF_CHAOS_SPRINT_TIMEOUT_S: REDIS/WORKER sprint bound
    load_s: float = 15.0  # AWF_CHAOS_LOAD_S: API seconds of load in all (the kill included)
    concurrency: int = 8  # AWF_CHAOS_CONCURRENCY: API clients (half write, half read)
    gateway_kills: int = 2  # AWF_CHAOS_GATEWAY_KILLS: GATEWAY leader SIGKILLs
    budget_s: float = 900.0  # AWF_CHAOS_BUDGET_S: the whole suite is cancelled after this
    results: Path = _DEFAULT_RESULTS  # AWF_CHAOS_RESULTS: where the markdown report goes
    only: str = ",".join(SCENARIOS)  # AWF_CHAOS_ONLY: a subset, e.g. "REDIS" or "API,GATEWAY"

    @property
    def selected(self) -> tuple[str, ...]:
        return tuple(p.strip().upper() for p in self.only.split(",") if p.strip())

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ChaosConfig:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(chaos_env_name(f.name), "").strip()
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
            raise ValueError(f"{', '.join(chaos_env_name(n) for n in bad)} must be positive")
        unknown = set(self.selected) - set(SCENARIOS)
        if unknown or not self.selected:
            raise ValueError(f"{_PREFIX}ONLY={self.only!r}: choose among {', '.join(SCENARIOS)}")
        if self.kill_after_s >= self.load_s:
            raise ValueError(f"{_PREFIX}KILL_AFTER_S must be below {_PREFIX}LOAD_S")
        if self.concurrency < 2:
            raise ValueError(f"{_PREFIX}CONCURRENCY must be at least 2 (a writer and a reader)")


def chaos_env_name(field_name: str) -> str:
    """The environment variable of a field: `down_s` -> `AWF_CHAOS_DOWN_S`."""
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
        raise ValueError(f"{chaos_env_name(name)}={raw!r} is not a valid {kind}") from None
    return raw
