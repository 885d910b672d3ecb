"""The leader's Discord duty: one hikari GatewayBot (shard 0 of 1) answering interactions.

On `start` it reserves an IDENTIFY from the cluster budget (and counts those hikari sends by
itself later in the term), re-syncs the slash commands when the table changed, connects, and
hands every INTERACTION_CREATE (its raw JSON, exactly as the HTTP endpoint gets it) to the
shared handler; responses go out over REST through the cluster-wide rate bucket, and so do
hikari's own REST calls. Next to the bot it runs the notifier (timelines to channels and story
threads) and the approval deadline watcher. `stop` first closes the session, then answers what
it had taken; it is idempotent.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import hikari
import httpcore  # noqa: F401 - httpx loads it on first use; standbys load it before a takeover
import httpx
import structlog

from services.gateway.discord.background import Background, rest_bucket
from services.gateway.discord.connection import ConnectionRecorder, DiscordLink
from services.gateway.discord.delivery import TOKEN_TTL_S
from services.gateway.discord.hikari_bucket import route_through
from services.gateway.discord.inflight import InFlight
from services.gateway.discord.rest import DiscordRest, DiscordRestError
from services.gateway.discord.sessions import SessionCounter
from services.gateway.discord.sync import sync_commands
from services.gateway.discord.wiring import build_handler, default_catalog
from services.gateway.duties import identify_policy
from shared.jobs.queue import create_queue, enqueue_all
from shared.state.gateway_guards import IdentifyGuard
from shared.state.store import Store
from shared.workflow.executor import execute

if TYPE_CHECKING:
    from arq.connections import ArqRedis
    from redis.asyncio import Redis

    from services.gateway.discord.env import Executor
    from services.gateway.discord.handler import InteractionHandler
    from services.gateway.term import LeaderDuty, Term
    from shared.jobs.specs import JobSpec
    from shared.platform.settings import Settings

__all__ = ["DiscordDuty", "application_id", "discord_duty"]

log = structlog.get_logger("gateway.discord")


def application_id(token: str) -> str:
    """A bot token's first segment is the base64 of the bot's (= application's) id."""
    head = token.split(".", 1)[0]
    try:
        return base64.b64decode(head + "=" * (-len(head) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("DISCORD_BOT_TOKEN is not shaped like a bot token") from exc


class DiscordDuty:
    def __init__(
        self,
        settings: Settings,
        redis: Redis,
        *,
        executor: Executor = execute,
        token_ttl_s: float = TOKEN_TTL_S,
    ) -> None:
        self._settings = settings
        self._redis = redis
        self._executor = executor
        self._token_ttl_s = token_ttl_s
        self._bot: hikari.GatewayBot | None = None
        self._http: httpx.AsyncClient | None = None
        self._queue: ArqRedis | None = None
        self._inflight: InFlight | None = None
        self._ssl = httpx.create_ssl_context()  # loads the CA bundle once per process, not per term
        self._background: Background | None = None
        self._link: ConnectionRecorder | None = None

    async def start(self, term: Term) -> None:
        await self.stop()
        token = self._token()
        guard = IdentifyGuard(self._redis, identify_policy(self._settings.gateway))
        await guard.wait_turn()
        self._http = httpx.AsyncClient(timeout=10.0, verify=self._ssl)
        bucket = rest_bucket(self._redis, self._settings.discord)
        rest = DiscordRest(self._http, self._settings.discord.rest_url, token, bucket=bucket)
        self._queue = await create_queue(self._require_redis_url())
        inflight = self._inflight = InFlight(self._handler(rest, self._queue), rest)
        self._start_background(term, rest, self._queue)
        await self._sync(rest, application_id(token))
        sessions = SessionCounter(guard)
        self._bot = self._new_bot(token, lambda payload: _take(term, inflight, payload), sessions)
        route_through(self._bot, bucket)  # hikari's own calls (GET /gateway/bot) take tokens too
        self._link = ConnectionRecorder(self._redis, term)
        await self._link.record(DiscordLink.CONNECTING)
        self._link.subscribe(self._bot)
        await self._bot.start(check_for_updates=False, shard_ids=[0], shard_count=1)
        log.info("discord_started", fence=term.grant.token)

    async def stop(self) -> None:
        """Close the session first (nothing new arrives), answer what was taken, then the rest."""
        bot, self._bot = self._bot, None
        if bot is not None and bot.is_alive:
            await bot.close()
        link, self._link = self._link, None
        if link is not None:
            await link.record(DiscordLink.DISCONNECTED)
        inflight, self._inflight = self._inflight, None
        if inflight is not None:
            await inflight.drain()
        background, self._background = self._background, None
        if background is not None:
            await background.stop()
        http, self._http = self._http, None
        if http is not None:
            await http.aclose()
        queue, self._queue = self._queue, None
        if queue is not None:
            await queue.aclose()

    def _start_background(self, term: Term, rest: DiscordRest, queue: ArqRedis) -> None:
        async def enqueue(jobs: Sequence[JobSpec]) -> None:
            await enqueue_all(queue, jobs)

        owner = f"{term.grant.owner}:{term.grant.token}"
        store = Store(self._redis)
        self._background = Background.build(self._settings.discord, store, rest, enqueue, owner)
        self._background.start(term)

    def _token(self) -> str:
        secret = self._settings.discord_bot_token
        if secret is None or not secret.get_secret_value():
            raise RuntimeError("DISCORD_BOT_TOKEN is not set: the Discord duty cannot connect.")
        return secret.get_secret_value()

    def _require_redis_url(self) -> str:
        if not self._settings.redis_url:
            raise RuntimeError("REDIS_URL is not set: the Discord duty enqueues jobs in Redis.")
        return self._settings.redis_url

    def _handler(self, rest: DiscordRest, queue: ArqRedis) -> InteractionHandler:
        return build_handler(
            self._settings,
            Store(self._redis),
            queue,
            rest,
            executor=self._executor,
            token_ttl_s=self._token_ttl_s,
        )

    async def _sync(self, rest: DiscordRest, app_id: str) -> None:
        guild_id = self._settings.discord.command_guild_id
        try:
            await sync_commands(self._redis, rest, default_catalog(), app_id, guild_id)
        except DiscordRestError as exc:  # the bot still answers the commands Discord has
            log.warning("commands_sync_failed", error=str(exc))

    def _new_bot(
        self, token: str, on_interaction: Any, sessions: SessionCounter
    ) -> hikari.GatewayBot:
        bot = hikari.GatewayBot(
            token,
            rest_url=self._settings.discord.rest_url,
            intents=hikari.Intents.GUILDS,
            banner=None,
            logs=None,
            suppress_optimization_warning=True,
        )

        async def on_payload(event: hikari.ShardPayloadEvent) -> None:
            if event.name == "INTERACTION_CREATE":
                on_interaction(event.payload)

        async def on_ready(_: hikari.ShardReadyEvent) -> None:
            sessions.on_ready()

        bot.subscribe(hikari.ShardPayloadEvent, on_payload)
        bot.subscribe(hikari.ShardReadyEvent, on_ready)
        return bot


def _take(term: Term, inflight: InFlight, payload: Mapping[str, Any]) -> None:
    if term.holds():  # a deposed leader must not answer; the new one will
        inflight.spawn(payload)


def discord_duty(settings: Settings, redis: Redis) -> LeaderDuty:
    """A `DutyFactory` for `services.gateway.duties.DUTIES`."""
    return DiscordDuty(settings, redis)
