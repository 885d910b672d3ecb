"""/livez (the process answers) and /readyz (Redis answers too)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from services.api.deps import StoreDep

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/livez", summary="Liveness: the process is up")
async def livez() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: Redis is reachable",
    responses={503: {"description": "Redis is unreachable"}},
)
async def readyz(store: StoreDep) -> JSONResponse:
    try:
        await store.redis.ping()
    except (RedisError, OSError) as exc:
        return JSONResponse(
            {"status": "unavailable", "reason": type(exc).__name__}, status_code=503
        )
    return JSONResponse({"status": "ready"})
