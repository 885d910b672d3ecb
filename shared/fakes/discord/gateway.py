"""The gateway websocket: HELLO, IDENTIFY → READY (+ GUILD_CREATE), heartbeats, RESUME.

Frames from the client are plain JSON (hikari sends them as BINARY); frames to it are
compressed as the ``compress`` query asked. Close codes and op 9 follow Discord's docs.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from aiohttp import WSMsgType, web

from shared.fakes.discord.changes import Changes
from shared.fakes.discord.compression import UnsupportedCompression, compressor_for
from shared.fakes.discord.payloads import Json
from shared.fakes.discord.sessions import Connection, Session, SessionRegistry
from shared.fakes.discord.stats import Stats
from shared.fakes.discord.world import World

__all__ = ["GUILDS_INTENT", "GatewayHub"]

_log = logging.getLogger(__name__)
HEARTBEAT, IDENTIFY, RESUME, RECONNECT, INVALID_SESSION, HELLO, HEARTBEAT_ACK = (
    1,
    2,
    6,
    7,
    9,
    10,
    11,
)
_IGNORED_OPS = frozenset({3, 4, 8, 31})  # presence, voice, member chunks, soundboard
GUILDS_INTENT = 1 << 0
_CLOSE_DROPS_SESSION = frozenset({4004, 4007, 4009, 4010, 4011, 4012, 4013, 4014})


@dataclass
class GatewayConfig:
    token: str
    url: str
    heartbeat_interval_ms: int = 41_250


class GatewayHub:
    def __init__(self, config: GatewayConfig, world: World, stats: Stats, changes: Changes) -> None:
        self.config = config
        self.world = world
        self.stats = stats
        self.changes = changes
        self.sessions = SessionRegistry()

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=4 * 1024 * 1024)
        await ws.prepare(request)
        try:
            compressor = compressor_for(request.query.get("compress"))
        except UnsupportedCompression as error:
            await ws.close(code=4000, message=str(error).encode())
            return ws
        connection = Connection(ws, compressor)
        self.stats.connections += 1
        try:
            await self._serve(connection)
        finally:
            self._detach(connection)
        return ws

    async def _serve(self, connection: Connection) -> None:
        interval = self.config.heartbeat_interval_ms
        await connection.send({"op": HELLO, "d": {"heartbeat_interval": interval}})
        async for message in connection.ws:
            if message.type not in (WSMsgType.BINARY, WSMsgType.TEXT):
                break
            try:
                payload = json.loads(message.data)
            except ValueError:
                await connection.close(4002, "Error while decoding payload.")
                break
            await self._on_payload(connection, payload)

    async def _on_payload(self, connection: Connection, payload: Json) -> None:
        op, data = payload.get("op"), payload.get("d")
        if op == HEARTBEAT:
            self.stats.heartbeats += 1
            await connection.send({"op": HEARTBEAT_ACK})
            self.changes.notify()
        elif op == IDENTIFY:
            await self._identify(connection, data or {})
        elif op == RESUME:
            await self._resume(connection, data or {})
        elif op not in _IGNORED_OPS:
            await connection.close(4001, "Unknown opcode.")

    async def _identify(self, connection: Connection, data: Json) -> None:
        if data.get("token") != self.config.token:
            await connection.close(4004, "Authentication failed.")
            return
        if connection.session is not None:
            await connection.close(4005, "Already authenticated.")
            return
        self.stats.identifies += 1
        self.stats.identified_at.append(time.monotonic())
        session = self.sessions.open(int(data.get("intents", 0)), list(data.get("shard", [0, 1])))
        self._attach(connection, session)
        await session.dispatch("READY", self._ready(session))
        if session.intents & GUILDS_INTENT:
            await session.dispatch("GUILD_CREATE", self.world.guild_create())
        self.changes.notify()

    async def _resume(self, connection: Connection, data: Json) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or data.get("token") != self.config.token:
            self.stats.invalid_sessions += 1
            await connection.send({"op": INVALID_SESSION, "d": False})
            return
        self.stats.resumes += 1
        self._attach(connection, session)
        await session.replay(connection, int(data.get("seq") or 0))
        await session.dispatch("RESUMED", {})
        self.changes.notify()

    def _attach(self, connection: Connection, session: Session) -> None:
        connection.session = session
        session.connection = connection

    def _detach(self, connection: Connection) -> None:
        session = connection.session
        if session is not None and session.connection is connection:
            session.connection = None
            if connection.client_ended_session():
                self.sessions.drop(session)
        self.changes.notify()

    def _ready(self, session: Session) -> Json:
        return {
            "v": 10,
            "user": self.world.bot,
            "guilds": [{"id": self.world.guild_id, "unavailable": True}],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.config.url,
            "shard": session.shard,
            "application": {"id": self.world.app_id, "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "geo_ordered_rtc_regions": [],
        }

    async def disconnect(self, code: int, reason: str) -> int:
        """Close every live connection with ``code``; how many were closed."""
        live = self.sessions.live()
        for session, connection in live:
            if code in _CLOSE_DROPS_SESSION:
                self.sessions.drop(session)
            await connection.close(code, reason)
        return len(live)

    async def invalidate(self, *, resumable: bool) -> int:
        """Send op 9 to every live connection; a non-resumable one ends the session."""
        live = self.sessions.live()
        for session, connection in live:
            self.stats.invalid_sessions += 1
            if not resumable:
                self.sessions.drop(session)
            await connection.send({"op": INVALID_SESSION, "d": resumable})
        return len(live)

    async def request_reconnect(self) -> int:
        live = self.sessions.live()
        for _, connection in live:
            await connection.send({"op": RECONNECT, "d": None})
        return len(live)

    async def close_all(self) -> None:
        for _, connection in self.sessions.live():
            await connection.close(1001, "fake Discord shutting down")
