"""hikari's own REST calls through the cluster-wide bucket.

A GatewayBot calls Discord's REST API by itself: ``GET /gateway/bot`` on every start (and
anything code does with ``bot.rest``). hikari rate-limits those per process, in its
RESTBucketManager, which every rate-limited request enters right before it is sent (retries
included); interaction callbacks are not rate-limited by Discord and do not enter it, as in our
own client. The manager below takes a token from the Redis bucket there first, and when Discord
answers with a global 429, parks the whole cluster for its ``retry_after``.

GatewayBot builds its REST client itself and takes no bucket manager, so `route_through`
swaps the client's manager before the bot starts (the client owns and starts it).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import hikari
from hikari.impl import buckets

from shared.state.rate_bucket import GLOBAL_SCOPE, RestBucket, route_scope

if TYPE_CHECKING:
    from contextlib import AbstractAsyncContextManager

    from hikari.internal.routes import CompiledRoute

__all__ = ["ClusterBucketManager", "route_through"]


class ClusterBucketManager(buckets.RESTBucketManager):
    def __init__(self, bucket: RestBucket, max_rate_limit: float) -> None:
        super().__init__(max_rate_limit)
        self._bucket = bucket
        self._parkings: set[asyncio.Task[None]] = set()

    def acquire_bucket(
        self, compiled_route: CompiledRoute, authentication: str | None
    ) -> AbstractAsyncContextManager[None]:
        local = super().acquire_bucket(compiled_route, authentication)
        return self._through_cluster(compiled_route, local)

    @contextlib.asynccontextmanager
    async def _through_cluster(
        self, compiled_route: CompiledRoute, local: AbstractAsyncContextManager[None]
    ) -> AsyncIterator[None]:
        route = compiled_route.route
        scope = route_scope(
            f"{route.method} {route.path_template}", compiled_route.major_param_hash
        )
        async with local:  # hikari's own wait for the route first, then ours, then the request
            await self._bucket.acquire(scope)
            yield

    def throttle(self, retry_after: float) -> None:
        """A global 429: hikari waits here; every pod waits with it."""
        super().throttle(retry_after)
        task = asyncio.create_task(self._bucket.park(GLOBAL_SCOPE, retry_after))
        self._parkings.add(task)
        task.add_done_callback(self._parkings.discard)


def route_through(bot: hikari.GatewayBot, bucket: RestBucket) -> None:
    """Make `bot`'s REST calls take tokens from `bucket`; call before `bot.start()`."""
    rest = bot.rest
    if not isinstance(rest, hikari.impl.RESTClientImpl) or rest.is_alive:
        raise TypeError("route_through needs a GatewayBot's REST client before it starts")
    # private, but the seam hikari itself offers (RESTClientImpl(bucket_manager=...)); GatewayBot
    # just does not pass it through
    local = rest._bucket_manager
    rest._bucket_manager = ClusterBucketManager(bucket, local.max_rate_limit)
