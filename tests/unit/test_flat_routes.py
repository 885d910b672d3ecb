"""The API's resource routes added flat to the app describe the same API as include_router."""

from __future__ import annotations

import pytest
from fastapi import APIRouter, FastAPI

from services.api.flat_routes import add_routes_flat
from services.api.routes import API_PREFIX, api_routers


def _openapi(include: bool) -> dict[str, object]:
    app = FastAPI(title="t", version="1")
    for router in api_routers:
        if include:
            app.include_router(router, prefix=API_PREFIX)
        else:
            add_routes_flat(app, router, API_PREFIX)
    return app.openapi()


def test_flat_routes_give_the_same_openapi_document_as_included_routers() -> None:
    flat, included = _openapi(include=False), _openapi(include=True)
    assert list(flat["paths"]) == list(included["paths"])  # type: ignore[call-overload]
    assert flat == included


def test_flat_routes_refuse_a_router_that_holds_a_router() -> None:
    outer, inner = APIRouter(), APIRouter()
    inner.add_api_route("/x", lambda: None)
    outer.include_router(inner)
    with pytest.raises(TypeError, match="not an APIRoute"):
        add_routes_flat(FastAPI(), outer, "/api")


def test_every_resource_operation_declares_the_bearer_scheme() -> None:
    """Reads that check the token inline (`VIEWER_INLINE`) say so as the dependency would."""
    document = _openapi(include=False)
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()  # type: ignore[attr-defined]
        for method, operation in item.items()
    ]
    unsecured = [(p, m) for p, m, op in operations if op.get("security") != [{"HTTPBearer": []}]]
    assert unsecured == []
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"  # type: ignore[index]
    assert f"{API_PREFIX}/projects/{{project_id}}" in document["paths"]  # type: ignore[operator]
