"""HTTP clients of the load driver, one keep-alive connection each.

`raw` (the default) is a minimal HTTP/1.1 keep-alive client on asyncio streams; `httpx` is the
client the project's CLI uses. On the 2-core box the generator shares the CPU with the servers:
httpx spends about 0.5 ms of generator CPU per request, so it saturates one core near 1,800 req/s,
below the floor app's ceiling (~2,900 req/s). That would cap the floor and flatter every ratio.
The raw client spends about a fifth of that, and both servers reach one full core.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

import httpx

from loadtest.harness import HOST

__all__ = ["TRANSPORT_ERRORS", "Client", "ClientKind", "HttpxClient", "RawClient", "RequestSpec"]

ClientKind = Literal["httpx", "raw"]
TRANSPORT_ERRORS = (httpx.HTTPError, OSError, asyncio.IncompleteReadError, TimeoutError, ValueError)


@dataclass(frozen=True)
class RequestSpec:
    method: str
    path: str
    body: bytes | None = None


class Client(Protocol):
    async def send(self, spec: RequestSpec) -> tuple[int, bytes]: ...

    async def aclose(self) -> None: ...


class HttpxClient:
    def __init__(self, base_url: str, headers: Mapping[str, str], timeout_s: float) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self._client = httpx.AsyncClient(
            base_url=base_url, headers=dict(headers), limits=limits, timeout=timeout_s
        )

    async def send(self, spec: RequestSpec) -> tuple[int, bytes]:
        response = await self._client.request(spec.method, spec.path, content=spec.body)
        return response.status_code, response.content

    async def aclose(self) -> None:
        await self._client.aclose()


class RawClient:
    """HTTP/1.1 over one keep-alive TCP connection; Content-Length bodies only (no chunking)."""

    def __init__(self, port: int, headers: Mapping[str, str], timeout_s: float) -> None:
        self._port = port
        self._timeout_s = timeout_s
        lines = [f"host: {HOST}:{port}", *(f"{k}: {v}" for k, v in headers.items())]
        self._headers = "".join(f"{line}\r\n" for line in lines)
        self._streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def send(self, spec: RequestSpec) -> tuple[int, bytes]:
        body = spec.body or b""
        head = f"{spec.method} {spec.path} HTTP/1.1\r\n{self._headers}content-length: {len(body)}\r\n\r\n"
        try:
            async with asyncio.timeout(self._timeout_s):
                if self._streams is None:  # asyncio sets TCP_NODELAY on TCP streams
                    self._streams = await asyncio.open_connection(HOST, self._port)
                reader, writer = self._streams
                writer.write(head.encode() + body)
                raw_head = await reader.readuntil(b"\r\n\r\n")
                status, length, closing = _parse_head(raw_head)
                content = await reader.readexactly(length)
        except BaseException:
            await self.aclose()  # the connection's state is unknown: start a new one
            raise
        if closing:
            await self.aclose()
        return status, content

    async def aclose(self) -> None:
        streams, self._streams = self._streams, None
        if streams is not None:
            streams[1].close()


def _parse_head(raw: bytes) -> tuple[int, int, bool]:
    """Status, Content-Length and whether the server closes the connection."""
    lines = raw.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip().lower()
    if "content-length" not in headers:
        raise ValueError("response without Content-Length (chunked bodies are not supported)")
    return status, int(headers["content-length"]), headers.get("connection") == "close"
