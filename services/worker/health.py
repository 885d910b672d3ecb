"""The worker's health key: refreshed every ``monitoring.health_check_interval`` seconds.

arq writes ``health_check_key`` every ``health_check_interval`` with a TTL of the interval plus
one second, so one late refresh (a busy event loop) already drops the key and flaps the pod's
probe. Here the key lives ``HEALTH_TTL_FACTOR`` intervals: one late refresh is tolerated, two
missed ones remove the key (a dead or hung worker vanishes from `awf health` within that).
"""

from __future__ import annotations

from typing import Any

from arq.worker import Worker, get_kwargs

__all__ = ["HEALTH_TTL_FACTOR", "HealthKeyWorker", "health_ttl_ms"]

HEALTH_TTL_FACTOR = 2


def health_ttl_ms(interval_s: float) -> int:
    return int(interval_s * HEALTH_TTL_FACTOR * 1000)


class HealthKeyWorker(Worker):
    """arq's worker, its health key kept ``HEALTH_TTL_FACTOR`` intervals."""

    @classmethod
    def from_settings(cls, settings_cls: type, **overrides: Any) -> HealthKeyWorker:
        """Like arq's ``create_worker``: the class attributes of ``settings_cls``, then overrides."""
        options: dict[str, Any] = {**get_kwargs(settings_cls), **overrides}
        return cls(**options)

    async def record_health(self) -> None:
        refreshed_before = self._last_health_check
        await super().record_health()
        if self._last_health_check != refreshed_before:
            ttl_ms = health_ttl_ms(self.health_check_interval)
            await self.pool.pexpire(self.health_check_key, ttl_ms)
