"""The Discord bench's pure helpers: signing, reply classification, owner ids, failover stats."""

from __future__ import annotations

import json
import math

import pytest
from nacl.signing import SigningKey

from loadtest.discord_ack import classify, discord_config, signature_headers
from loadtest.discord_failover import failover_stats, owner_pid
from services.gateway.discord import wire

KEY = SigningKey(bytes(range(32)))


def test_signature_headers_verify_with_the_public_key() -> None:
    body = b'{"type":1}'
    headers = signature_headers(KEY, body, 1_700_000_000)
    assert headers["X-Signature-Timestamp"] == "1700000000"
    signature = bytes.fromhex(headers["X-Signature-Ed25519"])
    assert KEY.verify_key.verify(b"1700000000" + body, signature) == b"1700000000" + body


def test_discord_config_carries_the_public_key() -> None:
    config = discord_config(KEY.verify_key.encode().hex())
    assert config["discord"]["public_key"] == KEY.verify_key.encode().hex()
    assert "admin" in config["discord"]["roles"]["*"].values()


@pytest.mark.parametrize(
    ("status", "reply", "expected"),
    [
        (200, {"type": wire.MESSAGE, "data": {"embeds": []}}, "handled"),
        (200, {"type": wire.DEFERRED_MESSAGE}, "handled"),
        (200, {"type": wire.MESSAGE, "data": {"flags": wire.EPHEMERAL}}, "ephemeral"),
        (200, {"type": wire.PONG}, "other"),
        (200, "not json", "other"),
        (401, {"message": "Invalid request signature"}, "-"),
        (500, {}, "-"),
    ],
    ids=["visible", "deferred", "ephemeral", "pong", "not-json", "401", "500"],
)
def test_classify(status: int, reply: object, expected: str) -> None:
    body = reply.encode() if isinstance(reply, str) else json.dumps(reply).encode()
    assert classify(status, body) == expected


@pytest.mark.parametrize(
    ("owner", "pid"),
    [("pod-a:1234:abcdef", 1234), ("host:with:colons:42:00ff00", 42)],
    ids=["plain", "colons-in-host"],
)
def test_owner_pid(owner: str, pid: int) -> None:
    assert owner_pid(owner) == pid


def test_failover_stats() -> None:
    stats = failover_stats([6_100, 5_200, 7_000, 6_500, 5_900])
    assert (stats.count, stats.max_ms, stats.median_ms, stats.min_ms) == (5, 7_000, 6_100, 5_200)
    even = failover_stats([1_000, 3_000])
    assert even.median_ms == 2_000


def test_failover_stats_of_nothing() -> None:
    stats = failover_stats([])
    assert stats.count == 0
    assert math.isnan(stats.max_ms)
    assert math.isnan(stats.median_ms)
