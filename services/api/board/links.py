"""One-time board login links (`awf board`): a random nonce kept in Redis for a short time.

Only the nonce's SHA-256 is stored, so a dump of the database logs nobody in; redeeming is a
GETDEL, so a link works once, on whichever replica the browser reaches.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import TYPE_CHECKING

from shared.domain.commands import Role
from shared.platform.auth import Principal
from shared.state import keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

__all__ = ["LINK_PATH", "create_link", "redeem_link"]

LINK_PATH = "/board/login/"
_NONCE_BYTES = 32


def _key(nonce: str) -> str:
    return keys.board_login_link(hashlib.sha256(nonce.encode()).hexdigest())


async def create_link(
    redis: Redis, principal: Principal, ttl_s: int, expires_at: float | None
) -> str:
    """A fresh nonce logging in as `principal` (never longer than its token lives)."""
    nonce = secrets.token_urlsafe(_NONCE_BYTES)
    record = {"sub": principal.subject, "role": principal.role.name.lower(), "exp": expires_at}
    await redis.set(_key(nonce), json.dumps(record), ex=ttl_s, nx=True)
    return nonce


async def redeem_link(redis: Redis, nonce: str) -> tuple[Principal, float | None] | None:
    """Who the link logs in (and until when at most), once; None when unknown, used or expired."""
    if not 20 <= len(nonce) <= 100:
        return None
    raw: str | None = await redis.getdel(_key(nonce))
    if raw is None:
        return None
    record = json.loads(raw)
    principal = Principal(str(record["sub"]), Role[str(record["role"]).upper()])
    exp = record.get("exp")
    return principal, float(exp) if exp is not None else None
