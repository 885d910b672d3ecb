"""What Discord's rate-limit headers say about a reply: wait how long, and for whom.

A 429 names its wait in the body (``retry_after``, fractional seconds) and in ``Retry-After``
(whole seconds); ``global`` in the body or ``X-RateLimit-Global`` means every route waits.
A success with ``X-RateLimit-Remaining: 0`` means the route's bucket is empty until
``X-RateLimit-Reset-After``: waiting then avoids the 429 altogether.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

__all__ = ["Throttle", "throttle_of"]

_DEFAULT_RETRY_S = 1.0


@dataclass(frozen=True)
class Throttle:
    seconds: float
    is_global: bool
    limited: bool  # a 429 (the call must be repeated), not just an empty bucket


def throttle_of(reply: httpx.Response) -> Throttle | None:
    if reply.status_code == 429:
        return _limited(reply)
    if reply.headers.get("X-RateLimit-Remaining") == "0":
        reset_after = _float(reply.headers.get("X-RateLimit-Reset-After"))
        if reset_after is not None and reset_after > 0:
            return Throttle(reset_after, is_global=False, limited=False)
    return None


def _limited(reply: httpx.Response) -> Throttle:
    body = _body(reply)
    seconds = _float(body.get("retry_after"))
    if seconds is None:
        seconds = _float(reply.headers.get("Retry-After"))
    is_global = bool(body.get("global")) or reply.headers.get("X-RateLimit-Global") == "true"
    wait = seconds if seconds is not None else _DEFAULT_RETRY_S
    return Throttle(max(wait, 0.0), is_global, limited=True)


def _body(reply: httpx.Response) -> dict[str, object]:
    try:
        body = reply.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _float(value: object) -> float | None:
    try:
        return float(value) if value is not None else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
