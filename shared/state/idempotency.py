"""Idempotency keys: a replayed mutating call returns the first response and changes nothing.

The record is written with SET NX inside the same MULTI as the change, and its key is watched
by the transaction, so two concurrent requests with one key cannot both apply: one commits, the
other re-runs, finds the record and replays it. A key reused for a different request is refused.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from shared.platform.errors import BadRequest, IdempotencyMismatch
from shared.state import keys

if TYPE_CHECKING:
    from shared.state.store import Transaction

__all__ = ["MAX_KEY_LENGTH", "StoredResponse", "fingerprint", "recall", "remember"]

MAX_KEY_LENGTH = 255


class StoredResponse(BaseModel):
    fingerprint: str
    status_code: int
    body: dict[str, Any]


def fingerprint(*parts: Any) -> str:
    """A digest of what the request asked for, to tell a replay from a reused key."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def _key(project_id: str, idempotency_key: str) -> str:
    if not idempotency_key or len(idempotency_key) > MAX_KEY_LENGTH:
        raise BadRequest(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters long.",
            field="Idempotency-Key",
        )
    return keys.idempotency(project_id, hashlib.sha256(idempotency_key.encode()).hexdigest())


async def recall(
    tx: Transaction, project_id: str, idempotency_key: str, request_fingerprint: str
) -> StoredResponse | None:
    """The stored response for this key (watched), or None when the key is new."""
    raw = await tx.get_raw(_key(project_id, idempotency_key))
    if raw is None:
        return None
    stored = StoredResponse.model_validate_json(raw)
    if stored.fingerprint != request_fingerprint:
        raise IdempotencyMismatch(
            "This Idempotency-Key was already used for a different request; "
            "use a new key for a new request."
        )
    return stored


def remember(
    tx: Transaction, project_id: str, idempotency_key: str, response: StoredResponse
) -> None:
    key = _key(project_id, idempotency_key)
    payload = response.model_dump_json()
    tx.call(lambda p: p.set(key, payload, nx=True, ex=keys.IDEMPOTENCY_TTL_S))
