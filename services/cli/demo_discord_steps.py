"""The demo's steps on the Discord side: bind the project's channel with a slash command, approve
a story with its button, ask for the sprint's status, and finally print the channel and each
story thread as the leader's notifier filled them from the timeline."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.cli import output
from services.cli.demo_discord import DemoDiscord, Json, buttons_of
from services.cli.demo_transcript import channel_table, names_of

if TYPE_CHECKING:
    from services.cli.demo_steps import DemoRun

__all__ = ["approve_stories", "bind_channel", "show_transcript", "sprint_status_in_discord"]

_REVIEW_NOTICE = "📊"
_REVIEW_WAIT_S = 60.0


def bind_channel(run: DemoRun) -> None:
    _show(run.discord, run.discord.slash("project bind_channel", {"project": run.project_id}))


def approve_stories(run: DemoRun) -> None:
    """The first proposed story with its Approve button in Discord, the rest with the CLI."""
    discord = run.discord
    proposals = discord.wait_for(_with_approve_button, "the proposed stories with their buttons")
    button = next(b for b in buttons_of(proposals) if b.get("label") == "Approve")
    story = _bullets(proposals)[0] if _bullets(proposals) else "the first story"
    output.out.print(f"[dim]In Discord, tester clicks Approve next to: {story}[/dim]")
    _show(discord, discord.click(proposals, button))
    output.out.print("[dim]$ awf approve   (the rest)[/dim]")
    run.command("approve")


def sprint_status_in_discord(run: DemoRun) -> None:
    _show(run.discord, run.discord.slash("sprint status", {"project": run.project_id}))


def show_transcript(run: DemoRun) -> None:
    """Once the review is posted (the notifier posts in timeline order, so every earlier event
    is too): the channel, then each story thread, oldest message first."""
    discord = run.discord
    discord.wait_for(_review_notice, "the sprint review notice", _REVIEW_WAIT_S)
    channel = discord.messages()
    threads = [(t, discord.messages(str(t["id"]))) for t in discord.threads()]
    names = discord.member_names | names_of([*channel, *(m for _, f in threads for m in f)])
    title = f"#{discord.channel_name} · the project's channel ({len(channel)} messages)"
    output.out.print(channel_table(title, channel, names, discord.invoked))
    for thread, found in threads:
        heading = f"🧵 thread {thread['name']} ({len(found)} messages)"
        output.out.print(channel_table(heading, found, names, discord.invoked))
    total = len(channel) + sum(len(found) for _, found in threads)
    output.out.print(
        f"[dim]{total} messages in 1 channel and {len(threads)} story threads, recorded by the "
        "local fake Discord (no real Discord was contacted).[/dim]"
    )


def _show(discord: DemoDiscord, message: Json) -> None:
    title = f"Discord #{discord.channel_name}"
    names = discord.member_names | names_of([message])
    output.out.print(channel_table(title, [message], names, discord.invoked))


def _with_approve_button(messages: list[Json]) -> Json | None:
    for message in messages:
        if any(b.get("label") == "Approve" for b in buttons_of(message)):
            return message
    return None


def _bullets(message: Json) -> list[str]:
    lines = str(message.get("content") or "").splitlines()
    return [line.removeprefix("• ") for line in lines if line.startswith("• ")]


def _review_notice(messages: list[Json]) -> Json | None:
    notices = (m for m in messages if str(m.get("content") or "").startswith(_REVIEW_NOTICE))
    return next(notices, None)
