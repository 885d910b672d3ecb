"""Fixtures of the HTTP API tests: the app over the ASGI transport, tokens per role, state dumps.

A test module imports the fixtures explicitly, by their `*_fixture` names (pytest registers them
under their `name=`, so a test's `api` parameter shadows no import): `api_fixture` together with
the fixtures it stands on (`api_app_fixture`, `api_settings_fixture`, `server_errors_fixture`,
`tokens_fixture`). They build on `redis_url` and `redis` of the root conftest, so every test
starts on an empty database.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis
from starlette.types import ASGIApp

from services.api import errors as api_errors
from services.api.app import create_app
from shared.domain.commands import Role
from shared.platform.auth import mint_token
from shared.platform.settings import Settings, load_settings
from shared.state import keys

__all__ = [
    "API",
    "ApiClient",
    "ServerErrors",
    "Tokens",
    "api_app_fixture",
    "api_fixture",
    "api_settings_fixture",
    "command",
    "dump_db",
    "dump_project",
    "expect",
    "register",
    "server_errors_fixture",
    "tokens_fixture",
]

API = "/api/v1"
KeyDump = dict[str, tuple[str, Any]]


class Tokens:
    """Mints bearer tokens signed with the app's JWT secret: `tokens("viewer")`, `tokens.auth(...)`."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def __call__(
        self,
        role: Role | str,
        subject: str | None = None,
        ttl: timedelta = timedelta(hours=1),
        *,
        secret: str | None = None,
    ) -> str:
        role = role if isinstance(role, Role) else Role[role.upper()]
        name = subject or f"{role.name.lower()}-user"
        return mint_token(secret or self.secret, name, role, ttl)

    def auth(self, role: Role | str, **kwargs: Any) -> dict[str, str]:
        """An `Authorization` header for `role` (same arguments as calling the helper)."""
        return {"Authorization": f"Bearer {self(role, **kwargs)}"}


@dataclass
class ServerErrors:
    """Unexpected exceptions the API logged while rendering a 500 (instead of a slow traceback)."""

    logged: list[tuple[str, BaseException | None]] = field(default_factory=list)

    def exception(self, event: str, **_: Any) -> None:
        self.logged.append((event, sys.exc_info()[1]))

    def describe(self) -> str:
        return "; ".join(f"{event}: {exc!r}" for event, exc in self.logged) or "none logged"


class ApiClient(httpx.AsyncClient):
    """An httpx client on the app (admin by default) that knows the tokens and logged errors."""

    tokens: Tokens
    errors: ServerErrors

    def as_role(self, role: Role | str, **kwargs: Any) -> dict[str, str]:
        return self.tokens.auth(role, **kwargs)

    async def send_without_auth(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """A request with no Authorization header at all (not even an empty one)."""
        request = self.build_request(method, url, **kwargs)
        del request.headers["Authorization"]
        return await self.send(request)


@pytest.fixture(scope="session", name="api_settings")
def api_settings_fixture(redis_url: str, _empty_config_file: Path) -> Settings:
    """Test settings on the session's server, with room for many active projects."""
    return load_settings(
        _empty_config_file,
        awf_env="test",
        redis_url=redis_url,
        orchestrator={"max_concurrent_projects": 1_000},
    )


@pytest.fixture(scope="session", name="tokens")
def tokens_fixture(api_settings: Settings) -> Tokens:
    return Tokens(api_settings.jwt_secret.get_secret_value())


@pytest.fixture(name="server_errors")
def server_errors_fixture(monkeypatch: pytest.MonkeyPatch) -> ServerErrors:
    """Replaces the API's error logger for the test: 500s stay fast and their cause is kept."""
    recorder = ServerErrors()
    monkeypatch.setattr(api_errors, "log", recorder)
    return recorder


@pytest.fixture(scope="session", name="api_app")
async def api_app_fixture(api_settings: Settings) -> AsyncIterator[ASGIApp]:
    """One app for the session, its lifespan entered: the app keeps no state of its own (all of
    it is in Redis), and FastAPI builds each route's state on its first request, so sharing the
    app keeps every test fast."""
    app = create_app(api_settings)
    async with LifespanManager(app) as manager:
        yield manager.app


@pytest.fixture(name="api")
async def api_fixture(
    api_app: ASGIApp, tokens: Tokens, server_errors: ServerErrors, redis: Redis
) -> AsyncIterator[ApiClient]:
    """The app through `httpx.ASGITransport`, as an admin, on an empty database.

    `raise_app_exceptions=False` so an unexpected error shows as the 500 a client would get.
    """
    transport = httpx.ASGITransport(api_app, raise_app_exceptions=False)
    async with ApiClient(
        transport=transport,
        base_url="http://api",
        headers=tokens.auth(Role.ADMIN, subject="alice"),
        timeout=30,
    ) as client:
        client.tokens = tokens
        client.errors = server_errors
        yield client


async def dump_project(redis: Redis, project_id: str) -> KeyDump:
    """Every key under `awf:{<project_id>}:*` with its type and value (TTLs as presence only)."""
    return await _dump(redis, f"{keys.project_prefix(project_id)}:*")


async def dump_db(redis: Redis) -> KeyDump:
    """Every key of the (per-test) database: projects plus the global index and active set."""
    return await _dump(redis, "*")


async def _dump(redis: Redis, pattern: str) -> KeyDump:
    found = [key async for key in redis.scan_iter(match=pattern, count=1_000)]
    return {key: await _dump_one(redis, key) for key in sorted(found)}


async def _dump_one(redis: Redis, key: str) -> tuple[str, Any]:
    kind: str = await redis.type(key)
    readers: dict[str, Any] = {
        "string": lambda: redis.get(key),
        "zset": lambda: redis.zrange(key, 0, -1, withscores=True),
        "set": lambda: redis.smembers(key),
        "hash": lambda: redis.hgetall(key),
        "list": lambda: redis.lrange(key, 0, -1),
        "stream": lambda: redis.xrange(key),
    }
    value = await readers[kind]() if kind in readers else None
    if isinstance(value, set):
        value = sorted(value)
    has_ttl = await redis.ttl(key) >= 0
    return kind, (value, has_ttl)


def expect(response: httpx.Response, status: int) -> dict[str, Any]:
    """The JSON body of `response`, after checking its status (the body is in the message)."""
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url.path} answered "
        f"{response.status_code}, wanted {status}: {response.text[:800]}"
    )
    body: dict[str, Any] = response.json()
    return body


async def register(client: ApiClient, project_id: str, *, start: bool = True) -> dict[str, Any]:
    """Register (and start) a project through the API; the register response body."""
    body = expect(
        await client.post(
            f"{API}/projects",
            json={"repo_url": f"/srv/git/{project_id}.git", "id": project_id},
        ),
        201,
    )
    if start:
        expect(await client.post(f"{API}/projects/{project_id}/start"), 200)
    return body


async def command(
    client: ApiClient,
    project_id: str,
    name: str,
    args: dict[str, Any] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """POST one project command to the generic endpoint."""
    body: dict[str, Any] = {"command": name}
    if args is not None:
        body["args"] = args
    return await client.post(f"{API}/projects/{project_id}/commands", json=body, **kwargs)
