"""A local fake Discord (REST + gateway) for tests and the keyless demo.

``FakeDiscord`` is the entry point; ``routes`` names the REST routes (for ``rate_limit`` and
``stats.rest_calls``), ``GLOBAL`` rate-limits every route at once.
"""

from __future__ import annotations

from shared.fakes.discord.interactions import InteractionRecord
from shared.fakes.discord.ratelimits import GLOBAL
from shared.fakes.discord.server import FakeDiscord
from shared.fakes.discord.stats import RestCall, Stats
from shared.fakes.discord.world import TranscriptEntry

__all__ = ["GLOBAL", "FakeDiscord", "InteractionRecord", "RestCall", "Stats", "TranscriptEntry"]
