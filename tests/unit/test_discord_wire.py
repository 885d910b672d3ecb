"""Pure pieces of the Discord client: signatures, custom ids, rendering within limits."""

from __future__ import annotations

import time

import pytest
from nacl.signing import SigningKey
from pydantic import ValidationError

from services.gateway.discord import wire
from services.gateway.discord.components import Decision, decision_modal, modal_value
from services.gateway.discord.delivery import Delivery
from services.gateway.discord.render import error_text, mention, outcome_message
from services.gateway.discord.signature import verify_interaction
from shared.domain.args import BacklogAddStoryArgs
from shared.platform.errors import InvalidTransition, Unauthorized
from shared.workflow.context import CommandOutcome

KEY = SigningKey(bytes(range(32)))  # fixed: parameter ids must match across xdist workers
PUBLIC = KEY.verify_key.encode().hex()
BODY = b'{"type":1}'


def _signed(timestamp: str, body: bytes = BODY) -> str:
    return KEY.sign(timestamp.encode() + body).signature.hex()


def test_a_fresh_correct_signature_passes() -> None:
    now = str(int(time.time()))
    verify_interaction(PUBLIC, _signed(now), now, BODY)


@pytest.mark.parametrize(
    ("public", "signature", "timestamp", "message"),
    [
        (None, "00", "1", "not configured"),
        (PUBLIC, None, "1", "Missing X-Signature"),
        (PUBLIC, "00", None, "Missing X-Signature"),
        (PUBLIC, "00", "soon", "Unix time"),
        (PUBLIC, "zz", "NOW", "Invalid request signature"),
        (PUBLIC, "BAD", "NOW", "Invalid request signature"),
        (PUBLIC, "OLD", "OLD", "more than 300 s"),
    ],
)
def test_bad_requests_are_refused_saying_why(
    public: str | None, signature: str | None, timestamp: str | None, message: str
) -> None:
    now, old = str(int(time.time())), str(int(time.time()) - 301)
    timestamp = {"NOW": now, "OLD": old}.get(timestamp or "", timestamp)
    signature = {"BAD": _signed(now, b"{}"), "OLD": _signed(old)}.get(signature or "", signature)
    with pytest.raises(Unauthorized, match=message):
        verify_interaction(public, signature, timestamp, BODY)


def test_a_decision_round_trips_through_its_custom_id() -> None:
    decision = Decision("approve", "p-1", "approval-0000abcd", 3)
    assert len(decision.custom_id) <= wire.MAX_CUSTOM_ID
    assert Decision.parse(decision.custom_id) == decision
    for foreign in ("", "approve", "awf:nuke:p:e:1", "awf:approve:p:e:x", "other:approve:p:e:1"):
        assert Decision.parse(foreign) is None


def test_the_reject_modal_reads_back_its_text() -> None:
    modal = decision_modal(Decision("reject", "p-1", "approval-0000abcd", 3))
    field = modal["components"][0]["components"][0]
    submitted = {"components": [{"components": [{**field, "value": "out of scope"}]}]}
    assert modal_value(submitted) == "out of scope"


def test_outcomes_render_within_discords_limits() -> None:
    huge = {"stories": [{"id": f"story-{n:08x}", "title": "t" * 300} for n in range(500)]}
    outcome = CommandOutcome("backlog view", "p-1", "IDLE", "IDLE", 3, huge)
    message = outcome_message(outcome, "http://api/x", [])
    [embed] = message["embeds"]
    assert len(message["content"]) <= wire.MAX_CONTENT
    assert len(embed["description"]) <= wire.MAX_EMBED_DESCRIPTION
    assert sum(len(str(v)) for v in embed.values()) <= wire.MAX_EMBED_TOTAL
    assert embed["url"] == "http://api/x"
    assert "… and 492 more" in embed["description"]


def test_errors_name_what_is_wrong_and_what_is_allowed() -> None:
    refused = InvalidTransition("no", state="IDLE", allowed_commands=["epic", "state"])
    assert error_text(refused).endswith("Allowed now: /epic, /state")
    with pytest.raises(ValidationError) as invalid:
        BacklogAddStoryArgs.model_validate({"title": "x", "priority": 9})
    assert error_text(invalid.value, "backlog add_story").startswith(
        "Invalid options for /backlog add_story: priority:"
    )
    assert "logged" in error_text(RuntimeError("secret detail"))
    assert "secret" not in error_text(RuntimeError("secret detail"))


def test_mentions_render_discord_actors_only() -> None:
    assert mention("discord:42") == "<@42>"
    assert mention("alice") == "alice"


def test_the_usable_token_time_keeps_a_margin() -> None:
    assert Delivery(None)._usable_s == 15 * 60 - 30
