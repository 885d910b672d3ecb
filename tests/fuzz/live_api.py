"""The API served by a real uvicorn on 127.0.0.1, in a thread of the test process.

The app's lifespan runs in uvicorn's own event loop, so its Redis clients live there; the test
talks to it over HTTP like any client. Being in-process, a test can still swap the API's error
logger to see the exception behind a 500.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

import uvicorn
from fastapi import FastAPI

__all__ = ["LiveApi"]

_START_TIMEOUT_S = 30.0


class LiveApi:
    """`with LiveApi(app) as api:` serves `app` on a free loopback port; `api.url` is its base."""

    def __init__(self, app: FastAPI) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="on"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="live-api", daemon=True)
        self.url = ""

    def __enter__(self) -> LiveApi:
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start the API (see the log above)")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=_START_TIMEOUT_S)
