"""Typed dependencies: process state from the lifespan, the caller, and precondition headers."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
from fastapi.security.base import SecurityBase

from services.api.commanding import Commands
from shared.domain.commands import Role
from shared.platform.auth import Principal, verify_token
from shared.platform.errors import Forbidden, Unauthorized
from shared.platform.settings import Settings
from shared.state.store import Store
from shared.workflow.context import Actor

__all__ = [
    "VIEWER_INLINE",
    "CommandsDep",
    "IdempotencyKey",
    "IfMatch",
    "RoleBearer",
    "SettingsDep",
    "StoreDep",
    "parse_if_match",
    "viewed_store",
]

_ETAG = re.compile(r'^\s*(?:W/)?"(\d+)"\s*$')


# The operation's security in OpenAPI, as a `Viewer` dependency would declare it.
VIEWER_INLINE: dict[str, Any] = {"security": [{"HTTPBearer": []}]}


def viewed_store(request: Request) -> Store:
    """The Store, once the caller is found to hold a viewer token: for the hot single-document
    reads, which take `request: Request` and declare `openapi_extra=VIEWER_INLINE` instead of
    `Viewer` and `StoreDep`. FastAPI passes the request for free; each dependency is another
    dependency solve, together about a fifth of such a read's work in the API."""
    authorize(request, Role.VIEWER)
    store: Store = request.state.store
    return store


async def _store(request: Request) -> Store:
    store: Store = request.state.store
    return store


async def _settings(request: Request) -> Settings:
    settings: Settings = request.state.settings
    return settings


async def _commands(request: Request) -> Commands:
    commands: Commands = request.state.commands
    return commands


StoreDep = Annotated[Store, Depends(_store)]
SettingsDep = Annotated[Settings, Depends(_settings)]
CommandsDep = Annotated[Commands, Depends(_commands)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=255,
        description="Replays of the same key return the first response and change nothing",
    ),
]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description='ETag from a GET, e.g. `"7"`; 412 when it is stale'),
]


def parse_if_match(value: str | None) -> int | None:
    """The version an If-Match names; None for absent or `*`; -1 (never matches) if unreadable."""
    if value is None or value.strip() == "*":
        return None
    match = _ETAG.match(value.split(",")[0])
    return int(match.group(1)) if match else -1


class RoleBearer(SecurityBase):
    """Bearer auth admitting callers with `role` or higher; the route gets them as an Actor.

    One dependency rather than a chain (credentials -> principal -> role check): FastAPI's
    cost per dependency dominates a cached token check. Being a security scheme itself, with
    HTTPBearer's model and name, it appears in OpenAPI exactly as `HTTPBearer` would.
    """

    def __init__(self, role: Role) -> None:
        self.model = HTTPBearerModel(description="JWT signed with JWT_SECRET (`awf token`)")
        self.scheme_name = "HTTPBearer"
        self.role = role

    async def __call__(self, request: Request) -> Actor:
        return authorize(request, self.role)


def authorize(request: Request, role: Role) -> Actor:
    """The caller of `request` if their bearer token grants `role` or higher; else 401/403."""
    principal = _principal(request)
    if principal.role < role:
        raise Forbidden(
            f"This needs the {role.name.lower()} role; {principal.subject} has "
            f"{principal.role.name.lower()}.",
            required_role=role.name.lower(),
        )
    return Actor(principal.subject, principal.role)


def _principal(request: Request) -> Principal:
    scheme, _, token = _authorization(request).partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized(
            "Missing bearer token: send `Authorization: Bearer <token>` "
            "(mint one with `awf token`)."
        )
    settings: Settings = request.state.settings
    return verify_token(settings.jwt_secret.get_secret_value(), token)


def _authorization(request: Request) -> str:
    """The `Authorization` header, read off the raw headers (cheaper than `request.headers`)."""
    for name, value in request.scope["headers"]:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return ""


Viewer = Annotated[Actor, Depends(RoleBearer(Role.VIEWER))]
Member = Annotated[Actor, Depends(RoleBearer(Role.MEMBER))]
Approver = Annotated[Actor, Depends(RoleBearer(Role.APPROVER))]
Admin = Annotated[Actor, Depends(RoleBearer(Role.ADMIN))]
