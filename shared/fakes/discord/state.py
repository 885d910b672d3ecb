"""Everything the fake's handlers share, reachable as ``request.app[STATE]``."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from aiohttp import web

from shared.fakes.discord.buckets import Buckets
from shared.fakes.discord.changes import Changes
from shared.fakes.discord.commands import CommandRegistry
from shared.fakes.discord.errors import invalid_webhook_token, unknown
from shared.fakes.discord.gateway import GatewayConfig, GatewayHub
from shared.fakes.discord.interactions import InteractionRecord
from shared.fakes.discord.ratelimits import RateLimiter
from shared.fakes.discord.stats import Stats
from shared.fakes.discord.world import World

__all__ = ["STATE", "FakeConfig", "FakeState", "Interactions"]


@dataclass(frozen=True)
class FakeConfig:
    """Discord's clocks, shortened or stretched for tests: 3 s to ACK, 15 min of followups."""

    token: str
    app_id: str
    ack_deadline_s: float = 3.0
    token_ttl_s: float = 15 * 60.0
    heartbeat_interval_ms: int = 41_250
    session_start_limit: int = 1000
    bucket_limit: int = 50
    bucket_window_s: float = 1.0


class Interactions:
    def __init__(self, config: FakeConfig) -> None:
        self._config = config
        self._by_id: dict[str, InteractionRecord] = {}

    def add(self, record: InteractionRecord) -> None:
        self._by_id[record.id] = record

    def all(self) -> list[InteractionRecord]:
        return list(self._by_id.values())

    def for_callback(self, interaction_id: str, token: str) -> InteractionRecord:
        """The interaction a callback answers; after the ACK deadline it is gone (10062)."""
        record = self._by_id.get(interaction_id)
        if record is None or record.token != token:
            raise unknown("interaction")
        if time.monotonic() - record.created_at > self._config.ack_deadline_s:
            raise unknown("interaction")
        return record

    def for_webhook(self, application_id: str, token: str) -> InteractionRecord:
        """The interaction a followup/@original call names; its token lasts 15 minutes."""
        if application_id != self._config.app_id:
            raise unknown("Webhook")
        record = next((r for r in self._by_id.values() if r.token == token), None)
        if record is None:
            raise unknown("Webhook")
        if time.monotonic() - record.created_at > self._config.token_ttl_s:
            raise invalid_webhook_token()
        return record


@dataclass
class FakeState:
    config: FakeConfig
    gateway_url: str
    world: World = field(init=False)
    commands: CommandRegistry = field(init=False)
    interactions: Interactions = field(init=False)
    hub: GatewayHub = field(init=False)
    buckets: Buckets = field(init=False)
    stats: Stats = field(default_factory=Stats)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    changes: Changes = field(default_factory=Changes)

    def __post_init__(self) -> None:
        self.world = World(self.config.app_id)
        self.commands = CommandRegistry(self.config.app_id, self.world.ids)
        self.interactions = Interactions(self.config)
        self.buckets = Buckets(self.config.bucket_limit, self.config.bucket_window_s)
        gateway = GatewayConfig(
            self.config.token, self.gateway_url, self.config.heartbeat_interval_ms
        )
        self.hub = GatewayHub(gateway, self.world, self.stats, self.changes)


STATE = web.AppKey("discord_fake_state", FakeState)
