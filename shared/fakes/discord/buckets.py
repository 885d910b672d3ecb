"""Discord's per-route buckets: every answer carries X-RateLimit-* headers; overdraw gets 429.

The headers matter to hikari beyond throttling: a route whose answers carry no bucket stays
"unknown" to it, and unknown buckets skip hikari's global limiter, so a global 429 would
turn into a tight retry loop. Buckets are per route and major parameter, fixed windows.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

__all__ = ["BucketState", "Buckets"]


@dataclass
class _Window:
    used: int = 0
    ends_at: float = 0.0


@dataclass(frozen=True)
class BucketState:
    bucket: str
    limit: int
    remaining: int
    reset_after: float

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Bucket": self.bucket,
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": f"{time.time() + self.reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{self.reset_after:.3f}",
        }


class Buckets:
    def __init__(self, limit: int, window_s: float) -> None:
        self._limit = limit
        self._window_s = window_s
        self._windows: dict[tuple[str, str], _Window] = {}

    def take(self, route: str, major: str) -> tuple[BucketState, bool]:
        """Spend one request; the bucket after it, and whether it was allowed."""
        now = time.monotonic()
        window = self._windows.setdefault((route, major), _Window())
        if now >= window.ends_at:
            window.used, window.ends_at = 0, now + self._window_s
        allowed = window.used < self._limit
        window.used += allowed
        return self._state(route, window, now), allowed

    def exhaust(self, route: str, major: str, for_s: float) -> BucketState:
        """Empty the bucket for ``for_s`` seconds (a scripted 429 does this)."""
        now = time.monotonic()
        window = self._windows.setdefault((route, major), _Window())
        window.used, window.ends_at = self._limit, max(window.ends_at, now + for_s)
        return self._state(route, window, now)

    def _state(self, route: str, window: _Window, now: float) -> BucketState:
        bucket = hashlib.sha1(route.encode()).hexdigest()[:16]  # noqa: S324
        remaining = self._limit - window.used
        return BucketState(bucket, self._limit, remaining, max(window.ends_at - now, 0.0))
