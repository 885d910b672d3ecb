"""Commands over HTTP for the chaos scenarios: what a client was told, and when.

A request that could not connect never reached a server (`NOT_SENT`: a load balancer tries the
next replica). One that was sent and got no answer (`IN_FLIGHT`) may or may not have been
applied: the client retries it with the same Idempotency-Key, which resolves it either way.
"""

from __future__ import annotations

import enum
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["API", "Answer", "Kind", "Tally", "command", "idempotency_key", "send"]

API = "/api/v1"


class Kind(enum.Enum):
    OK = "ok"  # 2xx: acknowledged
    REFUSED = "refused"  # 4xx: a refusal (nothing to decide, stale, ...)
    SERVER_ERROR = "5xx"
    NOT_SENT = "not_sent"  # connect failed: no server saw it
    IN_FLIGHT = "in_flight"  # sent, the connection broke before an answer


@dataclass(frozen=True)
class Answer:
    kind: Kind
    status: int  # 0 without an HTTP answer
    body: dict[str, Any]
    sent_at: float  # time.monotonic()
    answered_at: float
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return self.kind is Kind.OK


@dataclass
class Tally:
    """Answers by kind; what broke (5xx error types, transport errors) counted by name."""

    counts: dict[Kind, int] = field(default_factory=lambda: dict.fromkeys(Kind, 0))
    server_errors: dict[str, int] = field(default_factory=dict)
    in_flight_sent_at: list[float] = field(default_factory=list)

    def add(self, answer: Answer) -> Answer:
        self.counts[answer.kind] += 1
        if answer.kind is Kind.IN_FLIGHT:
            self.in_flight_sent_at.append(answer.sent_at)
        if answer.kind in (Kind.SERVER_ERROR, Kind.IN_FLIGHT):
            name = f"{answer.status or 'no answer'} {answer.body.get('type', '?')}"
            self.server_errors[name] = self.server_errors.get(name, 0) + 1
        return answer

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def idempotency_key() -> str:
    return uuid.uuid4().hex


def command(name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"command": name, "args": args or {}}


async def send(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    json: dict[str, Any] | None = None,
    key: str | None = None,
) -> Answer:
    """One request, classified; never raises for a transport error."""
    headers = {"Idempotency-Key": key} if key else {}
    sent_at = time.monotonic()
    try:
        response = await http.request(method, url, json=json, headers=headers)
    except httpx.ConnectError:
        return Answer(Kind.NOT_SENT, 0, {}, sent_at, time.monotonic())
    except httpx.TransportError as exc:
        return Answer(Kind.IN_FLIGHT, 0, {"type": type(exc).__name__}, sent_at, time.monotonic())
    return Answer(
        _kind(response.status_code),
        response.status_code,
        _body(response),
        sent_at,
        time.monotonic(),
        response.headers.get("Idempotent-Replayed") == "true",
    )


def _kind(status: int) -> Kind:
    if status >= 500:
        return Kind.SERVER_ERROR
    return Kind.REFUSED if status >= 400 else Kind.OK


def _body(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {"type": "not_json", "text": response.text[:200]}
    return body if isinstance(body, dict) else {"value": body}
