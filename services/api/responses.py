"""What each route declares it may answer besides success, for OpenAPI: every error in the
`ErrorBody` shape, described for what it means there. Clients (and the schemathesis run in
tests/fuzz) hold the API to this list: a status a route answers must be declared here.
"""

from __future__ import annotations

from typing import Any

from services.api.schemas import CommandResponse, ErrorBody

__all__ = ["CREATED", "Responses", "errors"]

Responses = dict[int | str, dict[str, Any]]

_MEANING = {
    400: "Bad request: a malformed JSON body or cursor, or arguments that do not fit together",
    401: "Missing or invalid bearer token",
    403: "Role too low",
    404: "No such project, or no such story, epic, sprint or approval in it",
    409: "Refused: not allowed in the current state (the body names it and the allowed "
    "commands), or in conflict with what is stored",
    412: "If-Match names a version that is no longer current; the body gives the current one",
    413: "Body too large",
    415: "The body is not sent as application/json",
    422: "Validation error with field paths",
    503: "A decision was stored but Redis did not confirm (WAITAOF) that its append-only file "
    "holds it in time: retry with the same Idempotency-Key after Retry-After",
}

CREATED: Responses = {
    201: {
        "model": CommandResponse,
        "description": "The command created something: a project, epic, story, sprint or cycle",
    }
}


def errors(*codes: int, why: dict[int, str] | None = None) -> Responses:
    """`ErrorBody` responses for `codes`; `why` replaces the generic meaning of some of them."""
    meaning = {**_MEANING, **(why or {})}
    return {code: {"model": ErrorBody, "description": meaning[code]} for code in codes}
