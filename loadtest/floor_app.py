"""The bare floor for P1: FastAPI + one Redis GET of the project document, nothing else.

Same framework, same server (one uvicorn process, no access log), same Redis client factory and
the same key as `GET /api/v1/projects/{id}`, but no auth, no validation, no model, no
middleware: the raw JSON string goes straight back. `python -m loadtest.floor_app` reads
REDIS_URL, API__HOST and API__PORT like `python -m services.api`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypedDict

import uvicorn
from fastapi import FastAPI, Request, Response
from redis.asyncio import Redis

from shared.platform.redis import create_redis
from shared.state import keys

__all__ = ["create_floor_app"]


class _State(TypedDict):
    redis: Redis


def create_floor_app(redis_url: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[_State]:
        redis = create_redis(redis_url, client_name="awf.floor")
        try:
            yield _State(redis=redis)
        finally:
            await redis.aclose()

    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get("/readyz")
    async def readyz(request: Request) -> Response:
        await request.state.redis.ping()
        return Response(b'{"status":"ready"}', media_type="application/json")

    @app.get("/api/v1/projects/{project_id}")
    async def project(project_id: str, request: Request) -> Response:
        raw = await request.state.redis.get(keys.project(project_id))
        if raw is None:
            return Response(b'{"type":"not_found"}', status_code=404, media_type="application/json")
        return Response(raw, media_type="application/json")

    return app


def main() -> None:
    app = create_floor_app(os.environ["REDIS_URL"])
    uvicorn.run(
        app,
        host=os.environ.get("API__HOST", "127.0.0.1"),
        port=int(os.environ["API__PORT"]),
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
