"""Resource routes added to the app itself, not through `include_router`.

FastAPI 0.165 keeps an included router as one lazy `_IncludedRouter` entry: each request walks
into it and rebuilds the effective route context (prefix, version checks) for every route it
tries, about 150 Python calls and 15 µs per request over the same routes on the app's own
router (measured in-process on this box). The API's resource routers are declared as
`APIRouter`s, one module per resource, and copied here onto the app's router with the prefix;
the OpenAPI document is the same either way (tests/unit/test_flat_routes.py).
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

__all__ = ["add_routes_flat"]


def add_routes_flat(app: FastAPI, router: APIRouter, prefix: str) -> None:
    """Every route of `router` on `app.router`, under `prefix`, as `include_router` would."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            raise TypeError(f"{route!r} is not an APIRoute: include its router instead")
        app.router.add_api_route(
            prefix + route.path,
            route.endpoint,
            response_model=route.response_model,
            status_code=route.status_code,
            tags=route.tags,
            dependencies=route.dependencies,
            summary=route.summary,
            description=route.description,
            response_description=route.response_description,
            responses=route.responses,
            deprecated=route.deprecated,
            methods=route.methods,
            operation_id=route.operation_id,
            response_model_include=route.response_model_include,
            response_model_exclude=route.response_model_exclude,
            response_model_by_alias=route.response_model_by_alias,
            response_model_exclude_unset=route.response_model_exclude_unset,
            response_model_exclude_defaults=route.response_model_exclude_defaults,
            response_model_exclude_none=route.response_model_exclude_none,
            include_in_schema=route.include_in_schema,
            response_class=route.response_class,
            name=route.name,
            callbacks=route.callbacks,
            openapi_extra=route.openapi_extra,
            generate_unique_id_function=route.generate_unique_id_function,
            strict_content_type=route.strict_content_type,
            max_body_size=route.max_body_size,
            form_limits=route.form_limits,
        )
