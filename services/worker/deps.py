"""What every job needs, built once per worker process in arq's on_startup."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anthropic

from shared.agents.mirrors import MirrorCache
from shared.agents.testrunner import TestLimits
from shared.state.store import Store
from shared.workflow.context import Limits

if TYPE_CHECKING:
    from arq.connections import ArqRedis

    from shared.platform.settings import Settings

__all__ = ["WorkerDeps", "deps", "make_client"]


@dataclass(frozen=True)
class WorkerDeps:
    settings: Settings
    store: Store
    queue: ArqRedis
    client: anthropic.AsyncAnthropic
    worker_id: str
    limits: Limits
    mirrors: MirrorCache  # this process' mirrors of the projects' remotes

    @property
    def test_limits(self) -> TestLimits:
        agents = self.settings.agents
        return TestLimits(
            wall_s=agents.test_timeout_s,
            cpu_s=int(agents.test_timeout_s),
            memory_mb=agents.test_memory_mb,
            disabled_plugins=tuple(agents.test_disabled_plugins),
        )

    @property
    def lease_ms(self) -> int:
        return int(self.settings.orchestrator.lease_ttl_s * 1000)


def make_client(settings: Settings) -> anthropic.AsyncAnthropic:
    """The real SDK; ANTHROPIC_BASE_URL points it at the local scripted model when set."""
    key = settings.anthropic_api_key.get_secret_value() if settings.anthropic_api_key else None
    if key is None and not settings.anthropic_base_url:
        raise RuntimeError(
            "Set ANTHROPIC_API_KEY (or ANTHROPIC_BASE_URL for a local model "
            "server; `awf demo` starts one)."
        )
    return anthropic.AsyncAnthropic(
        api_key=key or "local-scripted-model",
        base_url=settings.anthropic_base_url,
        max_retries=2,
        timeout=anthropic.Timeout(120.0, connect=5.0),
    )


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def deps(ctx: dict[str, Any]) -> WorkerDeps:
    found: WorkerDeps = ctx["deps"]
    return found
