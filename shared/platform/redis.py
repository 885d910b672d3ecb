"""The one way to build an asyncio Redis client: str replies, timeouts, health checks, retries."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import EqualJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

__all__ = ["create_redis"]


def create_redis(
    url: str,
    client_name: str,
    *,
    socket_timeout: float | None = 5.0,
    retries: int = 5,
) -> Redis:
    """A client (with its own pool) named ``client_name`` in ``CLIENT LIST``; close with ``aclose()``.

    Connection errors are retried ``retries`` times with capped exponential backoff plus jitter
    (0.05 s doubling up to 2 s), so N replicas do not reconnect in lockstep after a failover. Timeouts
    are not retried: the command may have run. Pass ``socket_timeout=None`` for a client that issues
    blocking reads longer than 5 s (XREAD BLOCK, BLPOP).
    """
    client: Redis = Redis.from_url(
        url,
        client_name=client_name,
        decode_responses=True,
        socket_timeout=socket_timeout,
        socket_connect_timeout=5.0,
        socket_keepalive=True,
        health_check_interval=30,
        retry=Retry(EqualJitterBackoff(cap=2.0, base=0.05), retries, (RedisConnectionError,)),
    )
    return client
