"""Scripted 429s: a route (or the global limit) answers "rate limited" as Discord does.

A rule hands out ``count`` 429s; after each one the route stays closed for ``retry_after``
seconds. A request that arrives while it is closed gets another 429 and counts as an early
retry, which is how a test sees that a client did not honour Retry-After.

Scopes, as Discord labels them: ``shared`` (a per-resource limit; hikari sleeps the body's
``retry_after``), ``user`` (the bot's own bucket is empty; hikari re-reads the bucket headers
and, modelling a sliding window, may probe before the reset), ``global``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

from shared.fakes.discord.buckets import BucketState
from shared.fakes.discord.payloads import Json

__all__ = ["GLOBAL", "RateLimitHit", "RateLimitRule", "RateLimiter", "Scope"]

GLOBAL = "global"
Scope = Literal["shared", "user", "global"]


@dataclass
class RateLimitRule:
    route: str
    count: int
    retry_after: float
    scope: Scope
    closed_until: float = 0.0


@dataclass(frozen=True)
class RateLimitHit:
    route: str
    retry_after: float
    scope: Scope
    early: bool

    def headers(self, bucket: BucketState | None) -> dict[str, str]:
        headers = {"Retry-After": str(math.ceil(self.retry_after)), "X-RateLimit-Scope": self.scope}
        if self.scope == "global":
            return {**headers, "X-RateLimit-Global": "true"}
        return {**headers, **(bucket.headers() if bucket else {})}

    def body(self) -> Json:
        return {
            "message": "You are being rate limited.",
            "retry_after": round(self.retry_after, 3),
            "global": self.scope == "global",
        }


class RateLimiter:
    def __init__(self) -> None:
        self._rules: list[RateLimitRule] = []

    def add(self, route: str, count: int, retry_after: float, scope: Scope) -> None:
        scope = "global" if route == GLOBAL else scope
        self._rules.append(RateLimitRule(route, count, retry_after, scope))

    def clear(self) -> None:
        self._rules.clear()

    def check(self, route: str) -> RateLimitHit | None:
        """The 429 this request gets, if any (the global rule first, as Discord checks it)."""
        now = time.monotonic()
        for rule in sorted(self._rules, key=lambda r: r.route != GLOBAL):
            if rule.route in (GLOBAL, route) and (hit := self._apply(rule, now)) is not None:
                return hit
        return None

    def _apply(self, rule: RateLimitRule, now: float) -> RateLimitHit | None:
        if now < rule.closed_until:
            return RateLimitHit(rule.route, rule.closed_until - now, rule.scope, early=True)
        if rule.count <= 0:
            return None
        rule.count -= 1
        rule.closed_until = now + rule.retry_after
        return RateLimitHit(rule.route, rule.retry_after, rule.scope, early=False)
