"""Gateway sessions: sequence numbers, the replay buffer RESUME needs, the live connection.

Every live session receives every event (two sessions on one shard both do on Discord too),
filtered by the intents it identified with. A session outlives its connection until it
is resumed, invalidated, or closed by the client with 1000/1001.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import deque
from dataclasses import dataclass, field

from aiohttp import web

from shared.fakes.discord.compression import Compressor
from shared.fakes.discord.payloads import Json

__all__ = ["Connection", "Session", "SessionRegistry"]

_log = logging.getLogger(__name__)
_REPLAY_LIMIT = 1000
DISPATCH = 0


class Connection:
    """One websocket; frames are compressed and sent one at a time (the stream is stateful)."""

    def __init__(self, ws: web.WebSocketResponse, compressor: Compressor | None) -> None:
        self.ws = ws
        self._compressor = compressor
        self._lock = asyncio.Lock()
        self.session: Session | None = None
        self.closed_by_server = False

    async def send(self, payload: Json) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode()
        async with self._lock:
            if self.ws.closed:
                return
            try:
                if self._compressor is None:
                    await self.ws.send_str(data.decode())
                else:
                    await self.ws.send_bytes(self._compressor.frame(data))
            except ConnectionResetError:
                _log.debug("gateway client went away mid-send")

    async def close(self, code: int, reason: str) -> None:
        self.closed_by_server = True
        await self.ws.close(code=code, message=reason.encode())

    def client_ended_session(self) -> bool:
        """A client closing with 1000/1001 ends its session (hikari's 3000 keeps it)."""
        return not self.closed_by_server and self.ws.close_code in (1000, 1001)


@dataclass
class Session:
    intents: int
    shard: list[int]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    seq: int = 0
    connection: Connection | None = None
    buffer: deque[Json] = field(default_factory=lambda: deque(maxlen=_REPLAY_LIMIT))

    async def dispatch(self, name: str, data: Json) -> None:
        self.seq += 1
        payload = {"op": DISPATCH, "t": name, "s": self.seq, "d": data}
        self.buffer.append(payload)
        if self.connection is not None:
            await self.connection.send(payload)

    async def replay(self, connection: Connection, after_seq: int) -> None:
        for payload in [p for p in self.buffer if p["s"] > after_seq]:
            await connection.send(payload)


class SessionRegistry:
    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}

    def open(self, intents: int, shard: list[int]) -> Session:
        session = Session(intents, shard)
        self._sessions[session.id] = session
        return session

    def get(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def drop(self, session: Session) -> None:
        self._sessions.pop(session.id, None)

    def all(self) -> list[Session]:
        return list(self._sessions.values())

    def connected(self) -> list[Session]:
        return [s for s, _ in self.live()]

    def live(self) -> list[tuple[Session, Connection]]:
        """Sessions with an open connection, and that connection."""
        return [(s, s.connection) for s in self._sessions.values() if s.connection is not None]

    async def dispatch(self, name: str, data: Json, intent: int = 0) -> int:
        """Send to every session whose intents cover ``intent``; how many got it."""
        targets = [s for s in self._sessions.values() if not intent or s.intents & intent]
        for session in targets:
            await session.dispatch(name, data)
        return len(targets)
