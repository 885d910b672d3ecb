"""A local Anthropic Messages API for tests, the demo and chaos runs.

``create_fake_anthropic()`` is the FastAPI app: ``POST /v1/messages`` (JSON or SSE streaming,
tool use, usage, Anthropic's error shapes), ``GET /v1/models``, and a control plane:

- ``POST /_fake/faults`` ``{"kind": "429"|"529"|"500"|"slow"|"malformed_tool_input",
  "count": N, "retry_after_s": s, "delay_s": s}``: the next N /v1/messages calls fail that way
  (faults queue up in order); ``DELETE /_fake/faults`` clears them.
- ``GET /_fake/stats``: calls, calls per role and per status, tokens, faults applied/pending.

Faults: 429 and 529 answer ``rate_limit_error``/``overloaded_error`` with ``retry-after:
<retry_after_s>``, 500 ``api_error``; ``slow`` waits ``delay_s`` (stopping early if the client
hangs up) then answers normally; ``malformed_tool_input`` turns every tool input of the reply
into invalid JSON text: a string ``input`` in a JSON body (the SDK passes it through
unvalidated), unparseable ``partial_json`` in a stream (the SDK's stream raises ValueError).
A model that raises answers 500 with ``x-should-retry: false``.

The answers come from a model, by default the deterministic ``ScriptedModel``.
``FakeAnthropicServer`` runs the app on a free loopback port in a background thread;
``python -m shared.fakes.anthropic_server --port N`` runs it as a process.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from types import TracebackType
from typing import Any, Self

import uvicorn
from fastapi import FastAPI, Request, Response
from starlette.exceptions import HTTPException

from shared.fakes.fake_state import FakeState, Fault, FaultKind
from shared.fakes.routes import control_router, error_response, messages_router
from shared.fakes.scripted_model import ScriptedModel
from shared.fakes.wire import Model

__all__ = ["FakeAnthropicServer", "create_fake_anthropic", "main"]

_ERROR_KINDS = {404: "not_found_error", 405: "invalid_request_error", 413: "request_too_large"}


def create_fake_anthropic(model: Model | None = None, *, api_key: str | None = None) -> FastAPI:
    """The fake's app; ``api_key`` set means only that key is accepted (any non-empty otherwise)."""
    app = FastAPI(title="fake-anthropic", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.fake = FakeState()
    app.state.model = model if model is not None else ScriptedModel()
    app.state.api_key = api_key
    app.include_router(messages_router)
    app.include_router(control_router)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        kind = _ERROR_KINDS.get(exc.status_code, "api_error")
        return error_response(exc.status_code, kind, str(exc.detail))

    return app


class FakeAnthropicServer:
    """The fake on ``127.0.0.1:<free port>`` in a daemon thread; a context manager.

    Faults and stats are reachable directly (``inject``, ``clear_faults``, ``stats``) as well as
    over HTTP.
    """

    def __init__(
        self,
        model: Model | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
    ) -> None:
        self.app = create_fake_anthropic(model, api_key=api_key)
        self._host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def state(self) -> FakeState:
        state: FakeState = self.app.state.fake
        return state

    def start(self, timeout: float = 10.0) -> Self:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self._host, self._port))
        self._port = self._socket.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            daemon=True,
            name=f"fake-anthropic-{self._port}",
        )
        self._thread.start()
        self._wait_started(timeout)
        return self

    def _wait_started(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not (self._server and self._server.started):
            if time.monotonic() > deadline or not (self._thread and self._thread.is_alive()):
                self.stop()
                raise RuntimeError(f"fake Anthropic server did not start on {self.base_url}")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None

    def inject(self, kind: FaultKind | str, count: int = 1, **options: float) -> None:
        """Queue a fault for the next ``count`` calls (options: retry_after_s, delay_s)."""
        self.state.add_fault(Fault(kind=FaultKind(kind), count=count, **options))

    def clear_faults(self) -> None:
        self.state.clear_faults()

    def stats(self) -> dict[str, Any]:
        return self.state.stats()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Local fake of the Anthropic Messages API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--api-key", default=None, help="accept only this key")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    app = create_fake_anthropic(api_key=args.api_key)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=False)


if __name__ == "__main__":
    main()
