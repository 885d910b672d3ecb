"""The Discord side of a local stack: the fake Discord as a process and one gateway pod (the
Discord duty) pointed at it. Keyless and offline: every child gets the fake's URL and bot token,
so no real Discord is contacted even when DISCORD_BOT_TOKEN is set in the environment."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from services.cli.processes import Child, free_port, spawn_module

__all__ = ["DiscordTier", "DiscordTierError", "FakeInfo"]

_FAKE_MODULE = "shared.fakes.discord"
_GATEWAY_MODULE = "services.gateway"
_HOST = "127.0.0.1"
ADMIN_ROLE = "admin"  # the fake guild's role of its human member, "tester"


class DiscordTierError(RuntimeError):
    """The fake Discord or the gateway did not start; the message carries its log tail."""


@dataclass(frozen=True)
class FakeInfo:
    """Where the fake listens and what its guild holds (from its ``/_fake/info``)."""

    base_url: str
    token: str
    guild_id: str
    channel_id: str

    @property
    def rest_url(self) -> str:
        return f"{self.base_url}/api/v10"


class DiscordTier:
    def __init__(self, data_dir: Path, *, ready_timeout: float = 20.0) -> None:
        self.data_dir, self.ready_timeout = data_dir, ready_timeout
        self.fake: Child | None = None
        self.gateway: Child | None = None
        self.info: FakeInfo | None = None

    def start_fake(self, env: dict[str, str]) -> dict[str, str]:
        """Start the fake and wait for it; the settings that aim a process at it."""
        port = free_port(_HOST)
        log = self.data_dir / "logs" / "discord-fake.log"
        process = spawn_module(_FAKE_MODULE, env, log, "--host", _HOST, "--port", str(port))
        self.fake = Child("discord (fake)", process, log)
        self.info = self._wait_info(self.fake, f"http://{_HOST}:{port}")
        return self.child_env(self.info)

    @staticmethod
    def child_env(info: FakeInfo) -> dict[str, str]:
        return {
            "DISCORD_BOT_TOKEN": info.token,
            "DISCORD__REST_URL": info.rest_url,
            "DISCORD__COMMAND_GUILD_ID": info.guild_id,
            "DISCORD__ROLES": json.dumps({"*": {ADMIN_ROLE: "admin"}}),
        }

    def start_gateway(self, env: dict[str, str]) -> None:
        """One gateway pod running the Discord duty; `env` is the stack's child env."""
        log = self.data_dir / "logs" / "gateway.log"
        process = spawn_module(_GATEWAY_MODULE, env | {"GATEWAY__DUTY": "discord"}, log)
        self.gateway = Child("gateway", process, log)

    def wait_ready(self) -> None:
        """Until the gateway's bot has identified to the fake (it leads and is connected)."""
        info, gateway, fake = self._started()
        deadline = time.monotonic() + self.ready_timeout
        with httpx.Client(base_url=info.base_url, timeout=1.0) as http:
            while time.monotonic() < deadline:
                for child in (gateway, fake):
                    if child.process.poll() is not None:
                        raise DiscordTierError(f"{child.name} exited:\n{child.log_tail()}")
                if _identified(http):
                    return
                time.sleep(0.1)
        raise DiscordTierError(f"the gateway did not connect in time:\n{gateway.log_tail()}")

    def stop_gateway(self, timeout: float = 10.0) -> None:
        """SIGTERM the gateway: it hands its lease over and closes the bot."""
        if self.gateway is not None:
            _stop(self.gateway, timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the gateway (if still running), then the fake it talks to."""
        for child in self.children:
            _stop(child, timeout)

    @property
    def children(self) -> list[Child]:
        """Gateway first: it stops before the fake it talks to."""
        return [c for c in (self.gateway, self.fake) if c is not None]

    def dead(self) -> list[Child]:
        return [c for c in self.children if c.process.poll() is not None]

    @property
    def pids(self) -> dict[str, int]:
        return {c.name: c.process.pid for c in self.children}

    def _started(self) -> tuple[FakeInfo, Child, Child]:
        if self.info is None or self.gateway is None or self.fake is None:
            raise DiscordTierError("start the fake and the gateway first")
        return self.info, self.gateway, self.fake

    def _wait_info(self, fake: Child, base_url: str) -> FakeInfo:
        deadline = time.monotonic() + self.ready_timeout
        with httpx.Client(timeout=1.0) as http:
            while time.monotonic() < deadline:
                if fake.process.poll() is not None:
                    raise DiscordTierError(f"the fake Discord exited:\n{fake.log_tail()}")
                try:
                    body = http.get(f"{base_url}/_fake/info").json()
                    return FakeInfo(base_url, body["token"], body["guild_id"], body["channel_id"])
                except (httpx.HTTPError, ValueError, KeyError):
                    time.sleep(0.1)
        raise DiscordTierError(f"the fake Discord was not ready in time:\n{fake.log_tail()}")


def _identified(http: httpx.Client) -> bool:
    try:
        return int(http.get("/_fake/stats").json().get("identifies", 0)) >= 1
    except (httpx.HTTPError, ValueError):
        return False


def _stop(child: Child, timeout: float) -> None:
    """SIGTERM, then SIGKILL after ``timeout``."""
    if child.process.poll() is None:
        child.process.send_signal(signal.SIGTERM)
    try:
        child.process.wait(timeout)
    except subprocess.TimeoutExpired:
        child.process.kill()
        child.process.wait()
