"""The local stack as processes: an embedded Redis (unless one is given), N API replicas, the
agent workers and, on request, the fake Discord with one gateway pod.

Used by `awf up` (the user's stack), `awf demo` (a private throwaway one) and the e2e tests.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx
from pydantic import ValidationError

from services.cli.agent_tier import AgentTier, AgentTierError
from services.cli.discord_tier import DiscordTier, DiscordTierError
from services.cli.processes import (
    ApiProcess,
    Child,
    free_port,
    is_ready,
    port_in_use,
    spawn_api,
)
from shared.domain.commands import Role
from shared.platform.auth import mint_token
from shared.platform.embedded_redis import EmbeddedRedis
from shared.platform.settings import format_settings_error, load_settings

__all__ = ["ApiProcess", "Stack", "StackError", "free_port"]


class StackError(RuntimeError):
    """The stack could not start; the message says why (with the failing child's log tail)."""


class Stack:
    """Redis + API children. ``start()``/``stop()`` or ``with Stack(...) as stack``."""

    def __init__(
        self,
        data_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 8000,
        replicas: int = 1,
        redis_url: str | None = None,
        jwt_secret: str | None = None,
        env: Mapping[str, str] | None = None,
        appendonly: bool = True,
        ready_timeout: float = 20.0,
        stop_timeout: float = 10.0,
        workers: int = 0,
        fake_discord: bool = False,
    ) -> None:
        self.data_dir, self.host, self.port, self.replicas = data_dir, host, port, replicas
        self.ready_timeout, self.stop_timeout = ready_timeout, stop_timeout
        self.env = dict(env or {})
        self.generated_secret = not (jwt_secret or os.environ.get("JWT_SECRET"))
        self.jwt_secret = jwt_secret or os.environ.get("JWT_SECRET") or secrets.token_urlsafe(48)
        self._given_redis_url = redis_url
        self.redis = None if redis_url else EmbeddedRedis(data_dir / "redis", appendonly=appendonly)
        self.apis: list[ApiProcess] = []
        self.agents = AgentTier(data_dir, workers, ready_timeout=ready_timeout)
        self.discord = DiscordTier(data_dir, ready_timeout=ready_timeout) if fake_discord else None

    @property
    def redis_url(self) -> str:
        return self._given_redis_url or (self.redis.url if self.redis else "")

    @property
    def api_urls(self) -> list[str]:
        return [api.url for api in self.apis]

    @property
    def api_url(self) -> str:
        return self.apis[0].url if self.apis else self._url(self.port)

    @property
    def pids(self) -> dict[str, int]:
        pids = {f"api:{api.port}": api.process.pid for api in self.apis}
        if self.redis and self.redis.pid:
            pids["redis"] = self.redis.pid
        return pids | self.agents.pids | (self.discord.pids if self.discord else {})

    def admin_token(self, ttl: timedelta = timedelta(days=30), subject: str = "awf-up") -> str:
        return mint_token(self.jwt_secret, subject, Role.ADMIN, ttl)

    def start(self) -> None:
        """Start Redis (and the fake Discord), every API replica (and the gateway), wait until
        each answers /readyz (and the gateway's bot is connected), then the workers and,
        without ANTHROPIC_API_KEY, the local scripted model."""
        ports = [self.port + i for i in range(self.replicas)]
        busy = [p for p in ports if port_in_use(self.host, p)]
        if busy:
            raise StackError(
                f"port {busy[0]} on {self.host} is already in use; pass another --port"
            )
        try:
            if self.redis:
                if self.redis.appendonly:  # a persistent server also snapshots periodically
                    self.redis.save_interval_s = self._state_save_interval()
                self.redis.start()
            if self.discord:
                self.env |= self.discord.start_fake(self._child_env(self.port))
            self.apis = [self._spawn(p) for p in ports]
            if self.discord:
                self.discord.start_gateway(self._child_env(self.port))
            self._wait_ready()
            if self.discord:
                self.discord.wait_ready()
            self.agents.start(self._child_env(self.port))
        except (AgentTierError, DiscordTierError) as exc:
            self.stop()
            raise StackError(str(exc)) from exc
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the gateway and the agent tier, then SIGTERM the APIs (SIGKILL any left after
        ``stop_timeout``), then stop the fake Discord and Redis."""
        if self.discord:
            self.discord.stop_gateway(self.stop_timeout)
        self.agents.stop()
        for api in self.apis:
            if api.process.poll() is None:
                api.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for api in self.apis:
            try:
                api.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                api.process.kill()
                api.process.wait()
        if self.discord:
            self.discord.stop(self.stop_timeout)
        if self.redis:
            self.redis.stop()

    def dead(self) -> list[ApiProcess | Child]:
        """Children that have exited."""
        dead: list[ApiProcess | Child] = [a for a in self.apis if a.process.poll() is not None]
        return dead + self.agents.dead() + (self.discord.dead() if self.discord else [])

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _child_env(self, port: int) -> dict[str, str]:
        env = {**os.environ, **self.env}
        env.setdefault("AWF_ENV", "dev")
        env |= {"JWT_SECRET": self.jwt_secret, "REDIS_URL": self.redis_url}
        env |= {"API__HOST": self.host, "API__PORT": str(port), "PYTHONUNBUFFERED": "1"}
        return env

    def _state_save_interval(self) -> int:
        """``orchestrator.state_save_interval`` as the children read it (same env and file)."""
        env = {**os.environ, **self.env}.get("AWF_ENV", "dev")
        try:
            settings = load_settings(awf_env=env, jwt_secret=self.jwt_secret)
        except ValidationError as exc:
            raise StackError(f"Invalid settings:\n{format_settings_error(exc)}") from None
        except (OSError, ValueError) as exc:  # AWF_CONFIG missing, or not a mapping
            raise StackError(str(exc)) from None
        return settings.orchestrator.state_save_interval

    def _spawn(self, port: int) -> ApiProcess:
        log_path = self.data_dir / "logs" / f"api-{port}.log"
        return spawn_api(port, self._url(port), self._child_env(port), log_path)

    def _url(self, port: int) -> str:
        """Where clients connect: loopback when the API binds every interface."""
        host = "127.0.0.1" if self.host == "0.0.0.0" else self.host  # noqa: S104 - a comparison
        return f"http://{host}:{port}"

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        pending = list(self.apis)
        with httpx.Client(timeout=1.0) as http:
            while pending:
                for api in list(pending):
                    if api.process.poll() is not None:
                        raise StackError(self._failure(api, "exited"))
                    if is_ready(http, api.url):
                        pending.remove(api)
                if pending and time.monotonic() > deadline:
                    raise StackError(self._failure(pending[0], "was not ready in time"))
                time.sleep(0.1 if pending else 0)

    def _failure(self, api: ApiProcess, what: str) -> str:
        code = api.process.poll()
        status = f" (exit code {code})" if code is not None else ""
        return f"API on port {api.port} {what}{status}; last output:\n{api.log_tail()}"
