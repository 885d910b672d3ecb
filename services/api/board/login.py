"""Logging in to the board: paste a token, or open a one-time link that `awf board` printed."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from services.api.board.links import LINK_PATH, create_link, redeem_link
from services.api.board.render import page
from services.api.board.session import (
    check_origin,
    clear_login,
    current_user,
    session_token,
    set_login,
    token_expiry,
)
from services.api.deps import RoleBearer, SettingsDep, StoreDep
from shared.domain.commands import Role
from shared.platform.auth import Principal, verify_token
from shared.platform.errors import BadRequest, Unauthorized
from shared.workflow.context import Actor

__all__ = ["form_fields", "links_router", "router", "safe_next"]

router = APIRouter(prefix="/board", include_in_schema=False)
links_router = APIRouter(prefix="/board", tags=["board"])
_FORM = "application/x-www-form-urlencoded"


async def form_fields(request: Request) -> dict[str, str]:
    """A urlencoded form body as a dict (the last value of a repeated field wins)."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != _FORM:
        raise BadRequest(f"Send the form as {_FORM}.")
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace"), max_num_fields=20))


def safe_next(target: str | None) -> str:
    """Only a path of the board itself: never another host (`//evil`, `https://...`)."""
    if target and target.startswith("/board") and not target.startswith("//"):
        return target
    return "/board"


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    return page(request, "login.html", _maybe_user(request), next=safe_next(next))


@router.post("/login")
async def login(request: Request, settings: SettingsDep) -> Response:
    check_origin(request)
    fields = await form_fields(request)
    token, target = fields.get("token", "").strip(), safe_next(fields.get("next"))
    try:
        principal = verify_token(settings.jwt_secret.get_secret_value(), token)
    except Unauthorized as exc:
        return page(request, "login.html", None, 401, next=target, error=exc.message)
    return _logged_in(request, session_token(settings, principal, token_expiry(token)), target)


@router.get("/login/{nonce}")
async def login_link(
    nonce: str, request: Request, store: StoreDep, settings: SettingsDep
) -> Response:
    redeemed = await redeem_link(store.redis, nonce)
    if redeemed is None:
        error = "This login link was already used or has expired; print a new one with `awf board`."
        return page(request, "login.html", None, 410, next="/board", error=error)
    principal, expires_at = redeemed
    return _logged_in(request, session_token(settings, principal, expires_at), "/board")


@router.post("/logout")
async def logout(request: Request) -> Response:
    check_origin(request)
    response = RedirectResponse("/board/login", status_code=303)
    clear_login(request, response)
    return response


def _logged_in(request: Request, token: str, target: str) -> Response:
    response = RedirectResponse(target, status_code=303)
    set_login(request, response, token)
    return response


def _maybe_user(request: Request) -> Any:
    try:
        return current_user(request)
    except Unauthorized:
        return None


class LoginLink(BaseModel):
    path: str
    expires_in: int


Caller = Annotated[Actor, Depends(RoleBearer(Role.VIEWER))]


@links_router.post("/links", response_model=LoginLink, summary="A one-time web board login link")
async def new_link(
    request: Request, _: Caller, store: StoreDep, settings: SettingsDep
) -> LoginLink:
    """Logs the browser in as the caller (same subject and role), once, within
    `api.board_link_ttl_s`; `awf board` prints it."""
    token = request.headers["authorization"].partition(" ")[2].strip()
    principal: Principal = verify_token(settings.jwt_secret.get_secret_value(), token)
    ttl = settings.api.board_link_ttl_s
    nonce = await create_link(store.redis, principal, ttl, token_expiry(token))
    return LoginLink(path=f"{LINK_PATH}{nonce}", expires_in=ttl)
