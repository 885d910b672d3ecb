"""Scale-out bench settings from `AWF_SCALE_*` environment variables; the defaults take ~2 min."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

__all__ = ["JOURNEYS", "MODES", "ScaleConfig", "scale_env_name"]

_PREFIX = "AWF_SCALE_"
_ENV_NAMES = {"max_requests": "REQUESTS"}
_DEFAULT_RESULTS = Path(__file__).resolve().parent / "RESULTS_SCALE.md"
MODES = ("proxy", "direct")
JOURNEYS = ("read", "mix")


@dataclass(frozen=True)
class ScaleConfig:
    """Every run is bounded by `duration_s` and `max_requests`; the whole bench by `budget_s`."""

    replicas: int = 3  # AWF_SCALE_REPLICAS: measured with 1, 2, ... up to this many
    duration_s: float = 3.0  # AWF_SCALE_DURATION_S: each measured run
    warmup_s: float = 1.0  # AWF_SCALE_WARMUP_S: unmeasured load before each run
    concurrency: int = 36  # AWF_SCALE_CONCURRENCY: keep-alive connections (divisible by 1, 2, 3)
    max_requests: int = 30_000  # AWF_SCALE_REQUESTS: cap per run, whatever the duration
    rounds: int = 2  # AWF_SCALE_ROUNDS: 1, 2, 3 replicas, then 3, 2, 1, ...
    write_every: int = 5  # AWF_SCALE_WRITE_EVERY: the mix journey writes once in this many
    projects: int = 6  # AWF_SCALE_PROJECTS: the mix journey's writes are spread over these
    modes: str = "proxy,direct"  # AWF_SCALE_MODES: through the L4 proxy, or the client spreads
    journeys: str = "read,mix"  # AWF_SCALE_JOURNEYS
    budget_s: float = 240.0  # AWF_SCALE_BUDGET_S: the whole bench is cancelled after this
    request_timeout_s: float = 10.0  # AWF_SCALE_REQUEST_TIMEOUT_S
    results: Path = _DEFAULT_RESULTS  # AWF_SCALE_RESULTS: where the markdown report goes

    @property
    def selected_modes(self) -> tuple[str, ...]:
        return _names(self.modes)

    @property
    def selected_journeys(self) -> tuple[str, ...]:
        return _names(self.journeys)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ScaleConfig:
        env = os.environ if env is None else env
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(scale_env_name(f.name), "").strip()
            if raw:
                values[f.name] = _parse(f.name, raw, str(f.type))
        config = cls(**values)  # type: ignore[arg-type]
        config.validate()
        return config

    def validate(self) -> None:
        """Raise ValueError naming the variables whose values cannot bound a run."""
        numbers = {f.name: getattr(self, f.name) for f in fields(self)}
        bad = [
            n
            for n, v in numbers.items()
            if isinstance(v, int | float) and (v < 0 if n == "warmup_s" else v <= 0)
        ]
        if bad:
            raise ValueError(f"{', '.join(scale_env_name(n) for n in bad)} must be positive")
        for name, allowed, chosen in (
            ("modes", MODES, self.selected_modes),
            ("journeys", JOURNEYS, self.selected_journeys),
        ):
            if not chosen or set(chosen) - set(allowed):
                raise ValueError(f"{scale_env_name(name)}: choose among {', '.join(allowed)}")
        if self.concurrency < self.replicas:
            raise ValueError(f"{_PREFIX}CONCURRENCY must be at least {_PREFIX}REPLICAS")


def scale_env_name(field_name: str) -> str:
    """The environment variable of a field: `duration_s` -> `AWF_SCALE_DURATION_S`."""
    return _PREFIX + _ENV_NAMES.get(field_name, field_name.upper())


def _names(text: str) -> tuple[str, ...]:
    return tuple(p.strip().lower() for p in text.split(",") if p.strip())


def _parse(name: str, raw: str, kind: str) -> object:
    try:
        if "Path" in kind:
            return Path(raw)
        if "float" in kind:
            return float(raw)
        if "int" in kind:
            return int(raw.replace("_", ""))
    except ValueError:
        raise ValueError(f"{scale_env_name(name)}={raw!r} is not a valid {kind}") from None
    return raw
