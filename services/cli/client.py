"""A small synchronous HTTP client for the API: bearer auth, idempotency keys, typed errors."""

from __future__ import annotations

import uuid
from types import TracebackType
from typing import Any, Self

import httpx

from shared.domain.commands import Command

__all__ = ["ApiClient", "ApiError", "ApiUnreachable"]

_TIMEOUT = httpx.Timeout(15.0, connect=3.0)


class ApiError(Exception):
    """The API answered with an error status; ``body`` is its JSON error document."""

    def __init__(self, status_code: int, body: dict[str, Any]) -> None:
        self.status_code = status_code
        self.body = body
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
        return self.request(
            "POST", path, json={"command": command.name, "args": args}, headers=headers
        )

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise ApiUnreachable(self.base_url, exc) from exc
        body = _json_body(response)
        if response.is_error:
            raise ApiError(response.status_code, body if isinstance(body, dict) else {})
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


def _json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        text = response.text.strip()[:500]
        return {"type": "http_error", "message": text or response.reason_phrase}
