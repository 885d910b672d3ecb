"""Bearer tokens: JWTs signed with JWT_SECRET carrying a subject and a role.

The API verifies them on every route; `awf token` and `awf up` mint them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt

from shared.domain.commands import Role
from shared.platform.errors import Unauthorized

__all__ = ["ALGORITHM", "ISSUER", "Principal", "mint_token", "parse_role", "verify_token"]

ALGORITHM = "HS256"
ISSUER = "awf"


class Principal:
    __slots__ = ("role", "subject")

    def __init__(self, subject: str, role: Role) -> None:
        self.subject = subject
        self.role = role

    def __repr__(self) -> str:
        return f"Principal({self.subject!r}, {self.role.name.lower()})"


def parse_role(name: str) -> Role:
    try:
        return Role[name.upper()]
    except KeyError:
        allowed = ", ".join(r.name.lower() for r in Role)
        raise ValueError(f"unknown role {name!r}; allowed: {allowed}") from None


def mint_token(secret: str, subject: str, role: Role, ttl: timedelta) -> str:
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "role": role.name.lower(),
        "iss": ISSUER,
        "iat": now,
        "exp": now + ttl,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Principal:
    try:
        subject, role, expires = _verified_claims(secret, token)
    except jwt.ExpiredSignatureError:
        raise Unauthorized(
            "The bearer token has expired; mint a new one with `awf token`."
        ) from None
    except (jwt.InvalidTokenError, ValueError):
        raise Unauthorized(
            "The bearer token is invalid (bad signature, issuer or claims)."
        ) from None
    if expires <= time.time():  # verified earlier, expired since
        raise Unauthorized("The bearer token has expired; mint a new one with `awf token`.")
    return Principal(subject, role)


@lru_cache(maxsize=4096)
def _verified_claims(secret: str, token: str) -> tuple[str, Role, float]:
    """Signature, issuer and claims checked once per distinct token; failures are not cached."""
    claims = jwt.decode(
        token,
        secret,
        algorithms=[ALGORITHM],
        issuer=ISSUER,
        options={"require": ["sub", "role", "exp", "iss"]},
    )
    return str(claims["sub"]), parse_role(str(claims["role"])), float(claims["exp"])
