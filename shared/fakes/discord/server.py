"""``FakeDiscord``: the fake on a free loopback port, in the caller's event loop.

    async with FakeDiscord() as discord:
        bot = hikari.GatewayBot(discord.token, **discord.bot_options())
        await bot.start(check_for_updates=False, shard_ids=[0], shard_count=1)
        await discord.wait_until_ready()
        interaction = await discord.inject_slash("status", {"story": "S-1"})
        response = await discord.wait_for_response(interaction)

``bot_options()`` is ``rest_url`` plus startup noise switched off; hikari reads the gateway
URL from the fake's ``/gateway/bot``. Everything the bot wrote is in ``transcript()``,
``messages()``, ``stats`` and each interaction's record.
"""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from shared.fakes.discord import injection
from shared.fakes.discord.app import GATEWAY_PATH, create_app
from shared.fakes.discord.ids import bot_token
from shared.fakes.discord.interactions import InteractionRecord
from shared.fakes.discord.payloads import Json
from shared.fakes.discord.ratelimits import Scope
from shared.fakes.discord.routes import API_PREFIX
from shared.fakes.discord.state import FakeConfig, FakeState
from shared.fakes.discord.stats import Stats
from shared.fakes.discord.world import TranscriptEntry, World

__all__ = ["FakeDiscord"]

DEFAULT_APP_ID = "1100000000000000001"


class FakeDiscord:
    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, **config: Any) -> None:
        """``config`` overrides FakeConfig's clocks: ack_deadline_s, token_ttl_s, heartbeat_interval_ms, ..."""
        app_id = str(config.pop("app_id", DEFAULT_APP_ID))
        token = str(config.pop("token", None) or bot_token(app_id))
        self._config = FakeConfig(token=token, app_id=app_id, **config)
        self._host, self._port = host, port
        self._state: FakeState | None = None
        self._runner: web.AppRunner | None = None

    @property
    def state(self) -> FakeState:
        if self._state is None:
            raise RuntimeError("FakeDiscord is not started")
        return self._state

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def rest_url(self) -> str:
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://{self._host}:{self._port}{GATEWAY_PATH}"

    @property
    def token(self) -> str:
        return self._config.token

    @property
    def app_id(self) -> str:
        return self._config.app_id

    @property
    def world(self) -> World:
        return self.state.world

    @property
    def guild_id(self) -> str:
        return self.world.guild_id

    @property
    def channel_id(self) -> str:
        return self.world.channel_id

    @property
    def stats(self) -> Stats:
        return self.state.stats

    def bot_options(self) -> dict[str, Any]:
        """Keyword arguments for ``hikari.GatewayBot``/``RESTApp``/``RESTBot`` aimed at the fake."""
        return {"rest_url": self.rest_url, "banner": None, "suppress_optimization_warning": True}

    async def start(self) -> Self:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        self._port = sock.getsockname()[1]
        self._state = FakeState(self._config, self.gateway_url)
        self._runner = web.AppRunner(create_app(self._state), access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # The gateway, seen and steered from the Discord side.

    async def wait_until_ready(self, timeout_s: float = 5.0) -> str:
        """The id of a session that is connected (READY or RESUMED)."""
        sessions = self.state.hub.sessions
        session = await self.state.changes.wait_for(
            lambda: next(iter(sessions.connected()), None), timeout_s
        )
        return session.id

    async def wait_for_stat(self, name: str, at_least: int, timeout_s: float = 5.0) -> int:
        """Wait until a counter (``identifies``, ``resumes``, ...) reaches ``at_least``."""

        def reached() -> int | None:
            value = int(getattr(self.stats, name))
            return value if value >= at_least else None

        return await self.state.changes.wait_for(reached, timeout_s)

    async def disconnect(self, code: int = 4000, reason: str = "Unknown error.") -> int:
        """Close the gateway connections; 4000 lets the client RESUME, 4007/4009 do not."""
        return await self.state.hub.disconnect(code, reason)

    async def invalid_session(self, *, resumable: bool = False) -> int:
        return await self.state.hub.invalidate(resumable=resumable)

    async def request_reconnect(self) -> int:
        """Op 7: the client should reconnect and RESUME."""
        return await self.state.hub.request_reconnect()

    # What a user does.

    async def inject_slash(
        self, name: str, options: dict[str, Any] | None = None, *, channel_id: str | None = None
    ) -> InteractionRecord:
        return await injection.inject_slash(self.state, name, options or {}, channel_id)

    async def click_button(
        self, custom_id: str, *, message_id: str | None = None
    ) -> InteractionRecord:
        """Click the button ``custom_id`` on ``message_id`` (default: the newest message showing it)."""
        return await injection.click_button(self.state, custom_id, message_id)

    async def submit_modal(self, custom_id: str, values: dict[str, str]) -> InteractionRecord:
        """Submit the modal the bot opened with ``custom_id``; ``values`` by text-input custom id."""
        return await injection.submit_modal(self.state, custom_id, values)

    async def post_user_message(self, content: str, *, channel_id: str | None = None) -> Json:
        return await injection.post_user_message(self.state, content, channel_id)

    async def wait_for_response(
        self, interaction: InteractionRecord, timeout_s: float = 5.0
    ) -> Json:
        """The interaction's first callback body (``{"type": 4, "data": {...}}``)."""
        return await self.state.changes.wait_for(
            lambda: interaction.responses[0] if interaction.responses else None, timeout_s
        )

    async def wait_for_messages(
        self, count: int, *, channel_id: str | None = None, timeout_s: float = 5.0
    ) -> list[Json]:
        """Wait until the channel holds at least ``count`` messages; all of them, oldest first."""
        return await self.state.changes.wait_for(
            lambda: found if len(found := self.messages(channel_id)) >= count else None, timeout_s
        )

    # REST behaviour.

    def rate_limit(
        self, route: str, count: int = 1, retry_after: float = 1.0, *, scope: Scope = "shared"
    ) -> None:
        """The next ``count`` calls to ``route`` (a key from ``routes``, or ``GLOBAL``) get 429."""
        self.state.limiter.add(route, count, retry_after, scope)

    def clear_rate_limits(self) -> None:
        self.state.limiter.clear()

    # What the bot wrote.

    def messages(self, channel_id: str | None = None) -> list[Json]:
        return self.world.messages(channel_id or self.channel_id)

    def transcript(self, channel_id: str | None = None) -> list[TranscriptEntry]:
        return self.world.transcript(channel_id or self.channel_id)

    def threads(self, parent_id: str | None = None) -> list[Json]:
        return self.world.threads(parent_id or self.channel_id)

    def commands(self, *, guild: bool = False) -> list[Json]:
        return self.state.commands.list(self.guild_id if guild else None)
