"""Typed dependencies: process state from the lifespan, the caller, and precondition headers."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.api.commanding import Commands
from shared.domain.commands import Role
from shared.platform.auth import Principal, verify_token
from shared.platform.errors import Forbidden, Unauthorized
from shared.platform.settings import Settings
from shared.state.store import Store
from shared.workflow.context import Actor

__all__ = [
    "CommandsDep",
    "IdempotencyKey",
    "IfMatch",
    "SettingsDep",
    "StoreDep",
    "parse_if_match",
    "require",
]

_bearer = HTTPBearer(auto_error=False, description="JWT signed with JWT_SECRET (`awf token`)")
_ETAG = re.compile(r'^\s*(?:W/)?"(\d+)"\s*$')


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


async def _principal(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized(
            "Missing bearer token: send `Authorization: Bearer <token>` "
            "(mint one with `awf token`)."
        )
    return verify_token(settings.jwt_secret.get_secret_value(), credentials.credentials)


def require(role: Role) -> Callable[..., Awaitable[Actor]]:
    """A dependency that admits callers holding `role` or higher and returns them as an Actor."""

    async def check(principal: Annotated[Principal, Depends(_principal)]) -> Actor:
        if principal.role < role:
            raise Forbidden(
                f"This needs the {role.name.lower()} role; {principal.subject} has "
                f"{principal.role.name.lower()}.",
                required_role=role.name.lower(),
            )
        return Actor(principal.subject, principal.role)

    return check


Viewer = Annotated[Actor, Depends(require(Role.VIEWER))]
Member = Annotated[Actor, Depends(require(Role.MEMBER))]
Approver = Annotated[Actor, Depends(require(Role.APPROVER))]
Admin = Annotated[Actor, Depends(require(Role.ADMIN))]
