"""What the fake counts: gateway handshakes and REST traffic (per route, statuses, peak rate)."""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["RestCall", "Stats"]

_RATE_WINDOW_S = 1.0


@dataclass(frozen=True)
class RestCall:
    """One REST request: ``route`` is the template, e.g. ``POST /channels/{channel_id}/messages``."""

    at: float
    route: str
    path: str
    status: int
    body: Any = None


@dataclass
class Stats:
    identifies: int = 0
    resumes: int = 0
    heartbeats: int = 0
    connections: int = 0
    invalid_sessions: int = 0
    rate_limited: int = 0
    early_retries: int = 0
    rest_calls: Counter[str] = field(default_factory=Counter)
    rest_log: list[RestCall] = field(default_factory=list)
    max_rest_rate: int = 0
    identified_at: list[float] = field(default_factory=list)  # time.monotonic() of each IDENTIFY
    _window: deque[float] = field(default_factory=deque, repr=False)

    def count_request(self, now: float | None = None) -> None:
        """Track the most requests seen within any one-second window."""
        now = time.monotonic() if now is None else now
        self._window.append(now)
        while self._window[0] <= now - _RATE_WINDOW_S:
            self._window.popleft()
        self.max_rest_rate = max(self.max_rest_rate, len(self._window))

    def record(self, call: RestCall) -> None:
        self.rest_calls[call.route] += 1
        self.rest_log.append(call)
        if call.status == 429:
            self.rate_limited += 1

    def calls(self, route: str) -> list[RestCall]:
        return [call for call in self.rest_log if call.route == route]

    def summary(self) -> dict[str, Any]:
        return {
            "identifies": self.identifies,
            "resumes": self.resumes,
            "heartbeats": self.heartbeats,
            "connections": self.connections,
            "invalid_sessions": self.invalid_sessions,
            "rate_limited": self.rate_limited,
            "early_retries": self.early_retries,
            "rest_calls": dict(self.rest_calls),
            "max_rest_rate_per_s": self.max_rest_rate,
        }
