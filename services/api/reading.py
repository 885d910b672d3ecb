"""GET helpers shared by the resource routes: one stored document with its ETag, or one page.

A document is served as the JSON the store wrote (`model_dump_json` of the route's response
model), so a read neither validates nor re-serialises it; the routes still declare
`response_model` for OpenAPI.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, TypeVar

from fastapi import Response
from pydantic import BaseModel

from services.api.commanding import etag
from shared.domain.models import Entity
from shared.platform.errors import NotFound
from shared.state import keys
from shared.workflow.queries import page_of
from shared.workflow.repo import load_project

if TYPE_CHECKING:
    from shared.state.keys import EntityKind, IndexKind
    from shared.state.store import Store

__all__ = ["get_document", "get_project", "list_page", "version_of"]

E = TypeVar("E", bound=Entity)


class _Versioned(BaseModel):
    """The version of a stored document; the other fields of its JSON are skipped."""

    version: int


# `Entity` is dumped `id` first, `version` second: the version is then read off the document's
# head instead of scanning all of it; any other shape is parsed in full.
_HEAD = re.compile(r'\{"id":"[^"\\]*","version":(\d+)[,}]')


def version_of(raw: str) -> int:
    """The `version` field of a stored document's JSON."""
    head = _HEAD.match(raw)
    return int(head.group(1)) if head else _Versioned.model_validate_json(raw).version


async def get_project(store: Store, project_id: str) -> Response:
    missing = f"Project {project_id} not found."
    return await _document(store, keys.project(project_id), project_id, missing)


async def get_document(store: Store, project_id: str, kind: EntityKind, entity_id: str) -> Response:
    missing = f"{kind.title()} {entity_id} in project {project_id} not found."
    return await _document(store, keys.entity(project_id, kind, entity_id), project_id, missing)


async def _document(store: Store, key: str, project_id: str, missing: str) -> Response:
    raw: str | None = await store.redis.get(key)
    if raw is None:
        await load_project(store, project_id)  # a missing project gets its own message
        raise NotFound(missing)
    return Response(raw, media_type="application/json", headers={"ETag": etag(version_of(raw))})


async def list_page(
    store: Store,
    model: type[E],
    project_id: str,
    index: IndexKind,
    kind: EntityKind,
    cursor: str | None,
    limit: int,
    newest_first: bool = False,
) -> dict[str, Any]:
    await load_project(store, project_id)
    page = await page_of(
        store, model, project_id, index, kind, cursor, limit, newest_first=newest_first
    )
    return {"items": page.items, "next_cursor": page.next_cursor, "total": page.total}
