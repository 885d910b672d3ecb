"""Decisions wait for the append-only file: WAITAOF after the commit (design: durability contract).

A decision's transaction also writes a one-off mark key (`mark`). After the commit, `confirm`
sends, on one connection, `DEL <mark>` then `WAITAOF 1 0 <timeout>`: the DEL is this connection's
latest write, so WAITAOF returns [1, 0] only once the AOF holds it, and with it the decision
committed before. The DEL also proves the decision is still in the server that answers: a retry
that reconnects to a server restarted without it finds no mark, and the decision is not
confirmed.

What the server cannot do is remembered per client: a server without WAITAOF (Redis < 7.2) skips
the wait from then on. With `appendonly no` WAITAOF refuses numlocal=1; that is checked on every
call (cheap: the reply comes at once), so turning AOF on at runtime takes effect at once.
"""

from __future__ import annotations

import enum
import uuid
import weakref
from typing import TYPE_CHECKING

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.state import keys

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from shared.state.store import Transaction

__all__ = ["MARK_TTL_S", "Fsync", "confirm", "mark"]

MARK_TTL_S = 300  # a mark whose confirmation never ran expires
_AOF_OFF = "appendonly is disabled"
_UNKNOWN = "unknown command"
_without_waitaof: weakref.WeakKeyDictionary[Redis, bool] = weakref.WeakKeyDictionary()


class Fsync(enum.Enum):
    CONFIRMED = "confirmed"  # the AOF on the server's disk holds the decision
    NOT_CONFIRMED = "not_confirmed"  # timed out, the server restarted without it, or unreachable
    AOF_OFF = "aof_off"  # appendonly no: nothing to wait for
    UNSUPPORTED = "unsupported"  # the server has no WAITAOF


def mark(tx: Transaction, project_id: str) -> str:
    """Buffer the mark write in `tx`; returns its token for `confirm`."""
    token = uuid.uuid4().hex
    key = keys.fsync_mark(project_id, token)
    tx.call(lambda p: p.set(key, "1", ex=MARK_TTL_S))
    return token


async def confirm(redis: Redis, project_id: str, token: str, timeout_ms: int) -> Fsync:
    """Wait (at most `timeout_ms`) until the server's AOF is fsynced past the decision."""
    if _without_waitaof.get(redis):
        return Fsync.UNSUPPORTED
    try:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.delete(keys.fsync_mark(project_id, token))
            pipe.execute_command("WAITAOF", 1, 0, timeout_ms)
            deleted, waited = await pipe.execute(raise_on_error=False)
    except (RedisConnectionError, RedisTimeoutError, OSError):
        return Fsync.NOT_CONFIRMED
    return _verdict(redis, deleted, waited)


def _verdict(redis: Redis, deleted: object, waited: object) -> Fsync:
    if isinstance(waited, ResponseError):
        text = str(waited)
        if _AOF_OFF in text:
            return Fsync.AOF_OFF
        if _UNKNOWN in text.lower():
            _without_waitaof[redis] = True
            return Fsync.UNSUPPORTED
        raise waited
    if isinstance(deleted, Exception):
        raise deleted
    local = int(waited[0]) if isinstance(waited, list) and waited else 0
    return Fsync.CONFIRMED if deleted == 1 and local >= 1 else Fsync.NOT_CONFIRMED
