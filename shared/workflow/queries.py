"""Paginated reads shared by the readers and the API's GET routes. No locks, no writes."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, TypeVar

from shared.domain.models import Entity, Story
from shared.platform.errors import BadRequest
from shared.state import keys

if TYPE_CHECKING:
    from shared.state.keys import EntityKind, IndexKind
    from shared.state.store import Store

__all__ = ["Page", "decode_cursor", "encode_cursor", "page_of", "stories_by_id"]

E = TypeVar("E", bound=Entity)


@dataclass(frozen=True)
class Page(Generic[E]):
    items: list[E]
    next_cursor: str | None
    total: int


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


_MAX_OFFSET = 2**62  # far beyond any index, and offset + limit still fits ZRANGE's 64 bits


def decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        offset = int(raw.removeprefix("o:")) if raw.startswith("o:") else -1
    except (ValueError, UnicodeDecodeError):
        offset = -1
    if not 0 <= offset <= _MAX_OFFSET:
        raise BadRequest(
            "cursor is not valid; pass the next_cursor of a previous page.", field="cursor"
        )
    return offset


async def page_of(
    store: Store,
    model: type[E],
    project_id: str,
    index: IndexKind,
    kind: EntityKind,
    cursor: str | None,
    limit: int,
    *,
    newest_first: bool = False,
) -> Page[E]:
    """One page of an index, in index order; O(log N + limit) whatever the index size."""
    offset = decode_cursor(cursor)
    key = keys.index(project_id, index)
    async with store.redis.pipeline(transaction=False) as pipe:
        pipe.zcard(key)
        pipe.zrange(key, offset, offset + limit - 1, desc=newest_first)
        total, ids = await pipe.execute()
    docs = await store.get_many(model, [keys.entity(project_id, kind, i) for i in ids])
    items = [d for d in docs if d is not None]
    has_more = offset + limit < int(total)
    return Page(items, encode_cursor(offset + limit) if has_more else None, int(total))


async def stories_by_id(store: Store, project_id: str, ids: Sequence[str]) -> list[Story]:
    docs = await store.get_many(Story, [keys.entity(project_id, "story", i) for i in ids])
    return [d for d in docs if d is not None]
