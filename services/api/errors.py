"""One place turns errors into JSON: `{"type", "message", ...details, "request_id"}`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.domain.commands import COMMANDS
from shared.platform.errors import AppError

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["install_error_handlers"]

log = structlog.get_logger("api.errors")

_HTTP_TYPES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


_UNPARSABLE = "There was an error parsing the body"  # FastAPI's 400 when json.loads raises


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _request_validation)  # type: ignore[arg-type]
    app.add_exception_handler(ValidationError, _args_validation)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RedisConnectionError, _store_unavailable)
    app.add_exception_handler(RedisTimeoutError, _store_unavailable)
    app.add_exception_handler(Exception, _unexpected)


def error_response(
    request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    state = request.state
    body = {
        **body,
        "request_id": getattr(state, "request_id", None),
        "trace_id": getattr(state, "trace_id", None),
    }
    return JSONResponse(body, status_code=status, headers=headers)


async def _app_error(request: Request, exc: AppError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
    if "retry_after_s" in exc.details:
        headers = {"Retry-After": str(exc.details["retry_after_s"])}
    return error_response(request, exc.status_code, exc.to_dict(), headers)


async def _request_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        detail = errors[0].get("ctx", {}).get("error", "malformed JSON")
        return error_response(
            request,
            400,
            {"type": "malformed_json", "message": f"The request body is not valid JSON: {detail}."},
        )
    content_type = request.headers.get("content-type", "")
    if not _is_json(content_type) and any(_body_shape_error(e) for e in errors):
        return error_response(
            request,
            415,
            {
                "type": "unsupported_media_type",
                "message": "The request body must be JSON sent with Content-Type: "
                f"application/json, not {content_type or 'no Content-Type'}.",
            },
        )
    return _validation_body(request, _field_errors(errors, skip_root=True))


def _is_json(content_type: str) -> bool:
    media = content_type.split(";")[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _body_shape_error(error: Any) -> bool:
    """The whole body was not an object: what FastAPI reports for a body it did not parse."""
    return tuple(error.get("loc", ())) == ("body",) and error.get("type") != "missing"


async def _args_validation(request: Request, exc: ValidationError) -> JSONResponse:
    return _validation_body(request, _field_errors(exc.errors(), prefix=("args",)))


def _validation_body(request: Request, fields: list[dict[str, str]]) -> JSONResponse:
    summary = "; ".join(f"{f['field']}: {f['message']}" for f in fields[:5])
    return error_response(
        request,
        422,
        {"type": "validation_error", "message": f"Invalid request: {summary}", "errors": fields},
    )


def _field_errors(
    errors: Sequence[Any], *, skip_root: bool = False, prefix: tuple[str, ...] = ()
) -> list[dict[str, str]]:
    out = []
    for err in errors:
        loc = [str(p) for p in err.get("loc", ())]
        if skip_root and loc and loc[0] == "body":
            loc = loc[1:]
        # drop the discriminator tag ("sprint plan") and pydantic's internal markers
        loc = [p for p in loc if p not in COMMANDS and not p.startswith("function-")]
        if err.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            loc = [*loc, "command"]
        out.append({"field": ".".join([*prefix, *loc]) or "body", "message": str(err.get("msg"))})
    return out


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.detail == _UNPARSABLE and exc.__cause__ is not None:
        # json.loads failed other than on the syntax (that is a RequestValidationError)
        message = f"The request body is not valid JSON: {_unparsable(exc.__cause__)}."
        return error_response(request, 400, {"type": "malformed_json", "message": message})
    kind = _HTTP_TYPES.get(exc.status_code, "http_error")
    message = "No such route." if exc.status_code == 404 else str(exc.detail)
    return error_response(
        request,
        exc.status_code,
        {"type": kind, "message": message},
        dict(exc.headers) if exc.headers else None,
    )


def _unparsable(cause: BaseException) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return f"it is not UTF-8 text (byte {cause.start})"
    if isinstance(cause, RecursionError):
        return "it is nested too deeply"
    return f"{type(cause).__name__}: {cause}"[:200]


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """Redis unreachable (a restart, a failover): 503, and the connection stays open (an
    unhandled error makes uvicorn close it after the 500, breaking the client's next request)."""
    log.warning("store_unavailable", path=request.url.path, error=type(exc).__name__)
    body = {
        "type": "store_unavailable",
        "message": "Redis is unreachable, so nothing was acknowledged. Retry after Retry-After "
        "seconds; a write sent again with the same Idempotency-Key applies at most once.",
    }
    return error_response(request, 503, body, {"Retry-After": "1"})


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", path=request.url.path)
    return error_response(
        request,
        500,
        {
            "type": "internal_error",
            "message": "Internal error; it has been logged. Quote the request_id when reporting it.",
        },
    )
