"""The demo's Discord transcript: what a message shows (content, embeds, names, buttons), and a
reply names what the user did to get it."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from services.cli.demo_transcript import MAX_LINES, channel_table, message_text, names_of

BOT = {"id": "1", "username": "awf-bot", "bot": True}
TESTER = {"id": "2", "username": "tester"}


def message(content: str = "", **fields: Any) -> dict[str, Any]:
    return {
        "id": "10",
        "author": BOT,
        "content": content,
        "timestamp": "2026-01-02T03:04:05+00:00",
    } | fields


def rendered(table: Any) -> str:
    console = Console(width=120, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def test_an_embed_follows_the_content_and_mentions_read_as_names() -> None:
    embed = {
        "title": "/sprint status",
        "description": "**sprint**: s-1",
        "fields": [{"name": "State", "value": "IDLE"}],
    }
    text = message_text(message("✅ Approved by <@2>", embeds=[embed]), {"2": "tester"})
    assert text == "✅ Approved by @tester\n▌ /sprint status\nsprint: s-1\nState: IDLE"


def test_links_keep_their_text_and_long_messages_are_cut() -> None:
    assert message_text(message("done\n[full log](<http://x/y>)"), {}) == "done\nfull log"
    lines = [f"line {n}" for n in range(MAX_LINES + 3)]
    text = message_text(message("\n".join(lines)), {})
    assert text.splitlines()[-1] == "… (3 more lines)"
    assert len(message_text(message("x" * 5000), {})) <= 300


def test_names_come_from_authors_and_the_users_behind_interactions() -> None:
    reply = message(interaction_metadata={"id": "99", "user": TESTER})
    assert names_of([reply]) == {"1": "awf-bot", "2": "tester"}


def test_a_reply_names_the_command_and_a_message_shows_its_buttons() -> None:
    row = {
        "type": 1,
        "components": [{"type": 2, "label": "Approve", "custom_id": "awf:approve:p:a:1"}],
    }
    reply = message(
        "/sprint status: done", interaction_metadata={"id": "99", "user": TESTER}, flags=64
    )
    proposals = message(
        "📝 Stories proposed", components=[row], edited_timestamp="2026-01-02T03:04:06"
    )
    text = rendered(channel_table("#general", [reply, proposals], {}, {"99": "/sprint status"}))
    assert "03:04:05" in text
    assert "awf-bot" in text
    assert "↳ tester: /sprint status" in text
    assert "only the user who asked sees this" in text
    assert "[Approve] · edited" in text


def test_an_empty_channel_says_so() -> None:
    assert "(no messages)" in rendered(channel_table("#general", [], {}, {}))
