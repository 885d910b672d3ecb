"""GET helpers shared by the resource routes: one document with its ETag, or one page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from services.api.commanding import etag
from shared.domain.models import Entity
from shared.platform.errors import NotFound
from shared.state import keys
from shared.workflow.queries import page_of
from shared.workflow.repo import load_project

if TYPE_CHECKING:
    from fastapi import Response

    from shared.state.keys import EntityKind, IndexKind
    from shared.state.store import Store

__all__ = ["get_document", "list_page"]

E = TypeVar("E", bound=Entity)


async def get_document(
    store: Store,
    model: type[E],
    project_id: str,
    kind: EntityKind,
    entity_id: str,
    response: Response,
) -> E:
    doc = await store.get(model, keys.entity(project_id, kind, entity_id))
    if doc is None:
        await load_project(store, project_id)  # a missing project gets its own message
        raise NotFound(f"{kind.title()} {entity_id} in project {project_id} not found.")
    response.headers["ETag"] = etag(doc.version)
    return doc


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
