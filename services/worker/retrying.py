"""Provider trouble (429/529/5xx, unreachable) becomes an arq Retry with backoff; nothing else does."""

from __future__ import annotations

from typing import Any

from arq import Retry

from shared.agents.loop import ProviderUnavailable

__all__ = ["provider_backoff_s", "retry_later"]

_CAP_S = 60.0


def provider_backoff_s(job_try: int, hinted_s: float | None) -> float:
    """Exponential in the job's try count, capped, never shorter than the provider's Retry-After."""
    backoff = min(_CAP_S, 2.0 ** min(job_try, 6))
    return max(backoff, hinted_s) if hinted_s else backoff


def retry_later(ctx: dict[str, Any], exc: ProviderUnavailable) -> Retry:
    hinted = exc.details.get("retry_after_s")
    return Retry(defer=provider_backoff_s(int(ctx.get("job_try", 1)), hinted))
