"""The Redis the operator commands (`backup`, `restore`, `export`, `import`) talk to directly.

From ``--redis-url``, else ``REDIS_URL``, else the session of the running `awf up`. Every failure
ends the command with exit code 1 and one line saying what went wrong.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.cli import output
from services.cli.session import read_session
from shared.platform.redaction import mask_url
from shared.platform.redis import create_redis
from shared.state.backup import BackupError

__all__ = [
    "EXIT_FAILED",
    "RedisUrlOption",
    "fail",
    "find_redis_url",
    "resolve_redis_url",
    "with_redis",
]

EXIT_FAILED = 1
T = TypeVar("T")

RedisUrlOption = Annotated[
    str | None,
    typer.Option(
        "--redis-url",
        help="Redis to use (default: REDIS_URL, else the running `awf up`).",
        show_default=False,
    ),
]


def fail(message: str) -> typer.Exit:
    output.error(message)
    return typer.Exit(EXIT_FAILED)


def find_redis_url(explicit: str | None) -> str | None:
    """``explicit``, else ``REDIS_URL``, else the running `awf up`'s; None when none is known."""
    session = None if explicit or os.environ.get("REDIS_URL") else read_session()
    return explicit or os.environ.get("REDIS_URL") or (session.redis_url if session else None)


def resolve_redis_url(explicit: str | None) -> str:
    url = find_redis_url(explicit)
    if not url:
        raise fail(
            "No Redis to use: pass --redis-url, set REDIS_URL, or start the stack with `awf up`."
        )
    return url


def with_redis(url: str, work: Callable[[Redis], Awaitable[T]]) -> T:
    """Run `work` with a client on `url`; its BackupError, Redis and file errors exit 1."""
    try:
        return asyncio.run(_connected(url, work))
    except BackupError as exc:
        raise fail(str(exc)) from None
    except (RedisConnectionError, RedisTimeoutError) as exc:
        raise fail(f"Cannot reach Redis at {mask_url(url)} ({exc}).") from None
    except RedisError as exc:
        raise fail(f"Redis at {mask_url(url)} refused: {exc}") from None
    except OSError as exc:
        raise fail(f"Cannot use {exc.filename or 'a file'}: {exc.strerror or exc}") from None


async def _connected(url: str, work: Callable[[Redis], Awaitable[T]]) -> T:
    client = create_redis(url, "awf-cli-backup", socket_timeout=60.0, retries=1)
    try:
        await client.ping()
        return await work(client)
    finally:
        await client.aclose()
