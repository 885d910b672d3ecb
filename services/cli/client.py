"""A small synchronous HTTP client for the API: bearer auth, idempotency keys, typed errors."""

from __future__ import annotations

import time
import uuid
from types import TracebackType
from typing import Any, Self

import httpx

from shared.domain.commands import Command

__all__ = ["ApiClient", "ApiError", "ApiUnreachable"]

_TIMEOUT = httpx.Timeout(15.0, connect=3.0)
_ATTEMPTS = 3  # a 503 (Redis restarting, a decision's fsync unconfirmed) is sent again...
_MAX_WAIT_S = 5.0  # ...after its Retry-After, at most this long, with the same Idempotency-Key


class ApiError(Exception):
    """The API answered with an error status; ``body`` is its JSON error document."""

    def __init__(self, status_code: int, body: dict[str, Any], retry_after_s: float = 1.0) -> None:
        self.status_code = status_code
        self.body = body
        self.retry_after_s = retry_after_s
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return str(
            self.body.get("message") or self.body.get("detail") or f"HTTP {self.status_code}"
        )

    @property
    def error_type(self) -> str:
        return str(self.body.get("type") or "error")


class ApiUnreachable(Exception):
    """No connection to the API (not started, wrong url, or it went away)."""

    def __init__(self, url: str, cause: Exception) -> None:
        self.url = url
        super().__init__(f"cannot reach the API at {url}: {cause}")


class ApiClient:
    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = _TIMEOUT,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    def run(self, command: Command, args: dict[str, Any], project: str | None = None) -> Any:
        """POST one command of the table; mutating ones carry a fresh ``Idempotency-Key``."""
        path = (
            f"/api/v1/projects/{project}/commands"
            if command.scope == "project"
            else "/api/v1/commands"
        )
        headers = {"Idempotency-Key": str(uuid.uuid4())} if command.mutating else {}
        body = {"command": command.name, "args": args}
        for _ in range(1, _ATTEMPTS):
            try:
                return self.request("POST", path, json=body, headers=headers)
            except ApiError as exc:
                if exc.status_code != 503:
                    raise
                time.sleep(min(exc.retry_after_s, _MAX_WAIT_S))
        return self.request("POST", path, json=body, headers=headers)  # its error is the answer

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ApiUnreachable(self.base_url, exc) from exc
        body = _json_body(response)
        if response.is_error:
            wait = _retry_after(response.headers.get("Retry-After"))
            raise ApiError(response.status_code, body if isinstance(body, dict) else {}, wait)
        return body

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _retry_after(header: str | None) -> float:
    """Retry-After in seconds (the API sends a number); 1 s when absent or a date."""
    try:
        return max(0.0, float(header)) if header else 1.0
    except ValueError:
        return 1.0


def _json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        text = response.text.strip()[:500]
        return {"type": "http_error", "message": text or response.reason_phrase}
