"""Who looks at the board: a login cookie (or the API's own bearer token), and CSRF checks.

The cookie holds a short-lived JWT minted at login with the caller's subject and role, signed
like every API token, so each replica verifies it alone. It is HttpOnly, SameSite=Strict and
Secure when the board is served over https. Cookie-authenticated POSTs must come from the board
itself: same Origin (or Referer) as the request's host, and the form's CSRF token, an HMAC of
the cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote, urlsplit

import jwt
from fastapi import Depends, Request, Response
from starlette.exceptions import HTTPException

from shared.domain.commands import Role
from shared.platform.auth import Principal, mint_token, verify_token
from shared.platform.errors import Forbidden, Unauthorized
from shared.platform.settings import Settings
from shared.workflow.context import Actor

__all__ = [
    "COOKIE",
    "ApiUser",
    "BoardUser",
    "PageUser",
    "check_origin",
    "check_post",
    "clear_login",
    "set_login",
]

COOKIE = "awf_board"


@dataclass(frozen=True)
class BoardUser:
    subject: str
    role: Role
    csrf: str  # empty for bearer callers: they carry no ambient credential

    @property
    def actor(self) -> Actor:
        return Actor(self.subject, self.role)

    def can(self, role: Role) -> bool:
        return self.role >= role

    @property
    def role_name(self) -> str:
        return self.role.name.lower()


def _settings(request: Request) -> Settings:
    settings: Settings = request.state.settings
    return settings


def _secret(request: Request) -> str:
    return _settings(request).jwt_secret.get_secret_value()


def csrf_for(secret: str, cookie: str) -> str:
    return hmac.new(secret.encode(), f"board-csrf:{cookie}".encode(), hashlib.sha256).hexdigest()


def current_user(request: Request) -> BoardUser | None:
    """The caller of the login cookie, else of an `Authorization: Bearer` header; None when
    neither is present. A present but invalid credential raises Unauthorized."""
    secret = _secret(request)
    cookie = request.cookies.get(COOKIE)
    if cookie:
        principal = verify_token(secret, cookie)
        return BoardUser(principal.subject, principal.role, csrf_for(secret, cookie))
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        principal = verify_token(secret, token.strip())
        return BoardUser(principal.subject, principal.role, "")
    return None


async def _page_user(request: Request) -> BoardUser:
    """Pages send a visitor without a (valid) login to the login page, coming back after."""
    try:
        user = current_user(request)
    except Unauthorized:
        user = None
    if user is None:
        target = quote(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        raise HTTPException(
            303, "Log in first.", headers={"Location": f"/board/login?next={target}"}
        )
    return user


async def _api_user(request: Request) -> BoardUser:
    user = current_user(request)
    if user is None:
        raise Unauthorized("Log in to the board first (/board/login), or send a bearer token.")
    return user


PageUser = Annotated[BoardUser, Depends(_page_user)]
ApiUser = Annotated[BoardUser, Depends(_api_user)]


def session_token(settings: Settings, principal: Principal, expires_at: float | None) -> str:
    """A board session for `principal`, never outliving the token it was made from."""
    ttl = timedelta(hours=settings.api.board_session_hours)
    if expires_at is not None:
        ttl = min(ttl, timedelta(seconds=max(1.0, expires_at - time.time())))
    return mint_token(
        settings.jwt_secret.get_secret_value(), principal.subject, principal.role, ttl
    )


def token_expiry(token: str) -> float | None:
    """The `exp` of a token already verified; None when it has none."""
    claims = jwt.decode(token, options={"verify_signature": False})
    exp = claims.get("exp")
    return float(exp) if exp is not None else None


def _is_https(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return request.url.scheme == "https" or forwarded == "https"


def set_login(request: Request, response: Response, token: str) -> None:
    max_age = int(timedelta(hours=_settings(request).api.board_session_hours).total_seconds())
    response.set_cookie(
        COOKIE,
        token,
        max_age=max_age,
        path="/board",
        httponly=True,
        samesite="strict",
        secure=_is_https(request),
    )


def clear_login(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE, path="/board", httponly=True, samesite="strict", secure=_is_https(request)
    )


def check_origin(request: Request) -> None:
    """A state-changing request must come from a page of this host (Origin, else Referer)."""
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        raise Forbidden("This form must be sent from the board's own pages (no Origin header).")
    # Host names only: a proxy may pass `Host: $host` without the port the browser used; the
    # SameSite=Strict cookie and the form's CSRF token still bind the request to this board.
    ours = urlsplit("//" + request.headers.get("host", "")).hostname
    if not ours or urlsplit(source).hostname != ours:
        raise Forbidden("This form was sent from another site; nothing was changed.")


def check_post(request: Request, user: BoardUser, form_csrf: str) -> None:
    """Cookie callers need a same-origin request and the form's CSRF token; bearer callers
    carry no ambient credential a foreign page could use."""
    if not user.csrf:
        return
    check_origin(request)
    if not hmac.compare_digest(user.csrf, form_csrf):
        raise Forbidden("The form is stale or forged (CSRF token mismatch); reload the page.")
