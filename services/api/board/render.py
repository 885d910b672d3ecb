"""Jinja2 (autoescaped) templates and the two static files of the board; no build step.

A page asked with `?fragment=1` renders only its `<main>` content: the page's script swaps it
in when the timeline says something changed, so one template serves both.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from services.api.board.session import BoardUser
from shared.domain.commands import Role

__all__ = ["STATIC", "page", "static_file"]

_HERE = Path(__file__).parent
_TEMPLATES = Jinja2Templates(directory=_HERE / "templates")
STATIC = {name: _HERE / "static" / name for name in ("board.css", "board.js")}
_MEDIA = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
_VERSIONS = {n: hashlib.sha256(p.read_bytes()).hexdigest()[:12] for n, p in STATIC.items()}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _when(value: str | datetime | None) -> str:
    if not value:
        return ""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _tokens(value: int | None) -> str:
    return f"{value or 0:,}"


_TEMPLATES.env.filters["when"] = _when
_TEMPLATES.env.filters["tokens"] = _tokens
_TEMPLATES.env.globals["static_version"] = _VERSIONS
_TEMPLATES.env.globals["Role"] = Role


def page(
    request: Request, name: str, user: BoardUser | None, status_code: int = 200, **context: Any
) -> HTMLResponse:
    fragment = request.query_params.get("fragment") == "1"
    values = {"user": user, "fragment": fragment, **context}
    response = _TEMPLATES.TemplateResponse(request, name, values, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def static_file(name: str) -> Response:
    path = STATIC[name]
    headers = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}
    return Response(path.read_bytes(), media_type=_MEDIA[path.suffix], headers=headers)
