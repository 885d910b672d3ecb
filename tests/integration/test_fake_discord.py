"""A real hikari GatewayBot / RESTApp against the fake Discord on loopback.

The bot under test is tiny: ``/ping`` answers with an Approve button, the button turns the
message into "approved", ``/form`` opens a modal, ``/slow`` defers and then edits + follows up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import hikari
import httpx
import pytest

from shared.fakes.discord import GLOBAL, FakeDiscord, routes
from shared.fakes.discord.payloads import PUBLIC_THREAD

pytestmark = pytest.mark.integration

READY_S = 5.0
RECONNECT_S = 10.0  # hikari backs off 1-3 s before it reconnects


class TinyBot:
    """Answers interactions; every interaction and shard event lands in a queue."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.bot = hikari.GatewayBot(fake.token, **fake.bot_options())
        self.interactions: asyncio.Queue[hikari.PartialInteraction] = asyncio.Queue()
        self.ready = asyncio.Event()
        self.resumed = asyncio.Event()
        self.bot.subscribe(hikari.InteractionCreateEvent, self._on_interaction)
        self.bot.subscribe(hikari.ShardReadyEvent, self._on_ready)
        self.bot.subscribe(hikari.ShardResumedEvent, self._on_resumed)

    async def _on_ready(self, _: hikari.ShardReadyEvent) -> None:
        self.ready.set()

    async def _on_resumed(self, _: hikari.ShardResumedEvent) -> None:
        self.resumed.set()

    async def _on_interaction(self, event: hikari.InteractionCreateEvent) -> None:
        interaction = event.interaction
        await self.interactions.put(interaction)
        if isinstance(interaction, hikari.CommandInteraction):
            await self._command(interaction)
        elif isinstance(interaction, hikari.ComponentInteraction):
            await interaction.create_initial_response(
                hikari.ResponseType.MESSAGE_UPDATE, "approved", components=[]
            )
        elif isinstance(interaction, hikari.ModalInteraction):
            values = [c.value for row in interaction.components for c in row.components]
            await interaction.create_initial_response(
                hikari.ResponseType.MESSAGE_CREATE, f"saved {values}"
            )

    async def _command(self, interaction: hikari.CommandInteraction) -> None:
        if interaction.command_name == "form":
            fields = self.bot.rest.build_modal_action_row().add_text_input("title", "Title")
            await interaction.create_modal_response("Story", "story-form", components=[fields])
        elif interaction.command_name == "slow":
            await interaction.create_initial_response(hikari.ResponseType.DEFERRED_MESSAGE_CREATE)
            await interaction.edit_initial_response("done")
            await interaction.execute("and one more thing")
        else:
            row = self.bot.rest.build_message_action_row().add_interactive_button(
                hikari.ButtonStyle.PRIMARY, "approve", label="Approve"
            )
            words = " ".join(str(o.value) for o in _leaf_options(interaction))
            await interaction.create_initial_response(
                hikari.ResponseType.MESSAGE_CREATE, f"pong {words}", component=row
            )


def _leaf_options(interaction: hikari.CommandInteraction) -> list[hikari.CommandInteractionOption]:
    options = list(interaction.options)
    while options and options[0].options:
        options = list(options[0].options)
    return options


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord(heartbeat_interval_ms=300) as running:
        yield running


@asynccontextmanager
async def running_bot(fake: FakeDiscord) -> AsyncIterator[TinyBot]:
    tiny = TinyBot(fake)
    await tiny.bot.start(check_for_updates=False, shard_ids=[0], shard_count=1)
    try:
        async with asyncio.timeout(READY_S):
            await tiny.ready.wait()
        yield tiny
    finally:
        await tiny.bot.close()


@pytest.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[TinyBot]:
    async with running_bot(fake) as tiny:
        yield tiny


@pytest.fixture
async def rest(fake: FakeDiscord) -> AsyncIterator[hikari.api.RESTClient]:
    app = hikari.RESTApp(url=fake.rest_url)
    await app.start()
    try:
        async with app.acquire(fake.token, hikari.TokenType.BOT) as client:
            yield client
    finally:
        await app.close()


async def next_interaction(tiny: TinyBot) -> hikari.PartialInteraction:
    async with asyncio.timeout(READY_S):
        return await tiny.interactions.get()


async def test_the_bot_identifies_gets_ready_and_sees_the_guild(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    assert (fake.stats.identifies, fake.stats.resumes) == (1, 0)
    guild = bot.bot.cache.get_guild(int(fake.guild_id))
    assert guild is not None
    assert int(fake.channel_id) in guild.get_channels()
    assert await fake.wait_for_stat("heartbeats", 2) >= 2
    assert fake.stats.rest_calls[routes.GATEWAY_BOT] == 1


async def test_a_slash_command_with_options_is_answered_and_recorded(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    record = await fake.inject_slash("story show", {"id": "S-1", "points": 3, "urgent": True})
    seen = await next_interaction(bot)
    assert isinstance(seen, hikari.CommandInteraction)
    assert seen.command_name == "story"
    assert [(o.name, o.value) for o in _leaf_options(seen)] == [
        ("id", "S-1"),
        ("points", 3),
        ("urgent", True),
    ]
    response = await fake.wait_for_response(record)
    assert response["type"] == 4
    assert response["data"]["content"] == "pong S-1 3 True"
    [entry] = fake.transcript()
    assert (entry.action, entry.via, entry.content) == ("create", "interaction", "pong S-1 3 True")
    assert entry.message["interaction_metadata"]["id"] == record.id
    assert record.original_message_id == entry.message_id


async def test_a_button_click_updates_the_message_it_was_on(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    await fake.wait_for_response(await fake.inject_slash("ping"))
    click = await fake.click_button("approve")
    seen = [await next_interaction(bot), await next_interaction(bot)]
    assert isinstance(seen[1], hikari.ComponentInteraction)
    assert seen[1].custom_id == "approve"
    assert (await fake.wait_for_response(click))["type"] == 7
    assert [e.action for e in fake.transcript()] == ["create", "edit"]
    [message] = fake.messages()
    assert (message["content"], message["components"]) == ("approved", [])
    with pytest.raises(LookupError):
        await fake.click_button("approve")


async def test_a_modal_the_bot_opened_can_be_submitted(fake: FakeDiscord, bot: TinyBot) -> None:
    opened = await fake.wait_for_response(await fake.inject_slash("form"))
    assert (opened["type"], opened["data"]["custom_id"]) == (9, "story-form")
    submit = await fake.submit_modal("story-form", {"title": "Login page"})
    assert (await fake.wait_for_response(submit))["data"]["content"] == "saved ['Login page']"
    with pytest.raises(LookupError):
        await fake.submit_modal("never-opened", {})


async def test_a_deferred_answer_is_edited_then_followed_up(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    record = await fake.inject_slash("slow")
    messages = await fake.wait_for_messages(2)
    assert [m["content"] for m in messages] == ["done", "and one more thing"]
    assert [e.action for e in fake.transcript()] == ["create", "edit", "create"]
    assert record.followup_ids == [messages[1]["id"]]
    assert fake.stats.rest_calls[routes.EDIT_ORIGINAL] == 1


async def test_a_4000_close_is_resumed_and_missed_events_are_replayed(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    assert await fake.disconnect(4000) == 1
    missed = await fake.inject_slash("ping")  # sent while the bot is away
    assert await fake.wait_for_stat("resumes", 1, RECONNECT_S) == 1
    async with asyncio.timeout(READY_S):
        await bot.resumed.wait()
    assert (await fake.wait_for_response(missed))["type"] == 4
    assert fake.stats.identifies == 1


async def test_an_invalid_session_makes_the_bot_identify_again(
    fake: FakeDiscord, bot: TinyBot
) -> None:
    bot.ready.clear()
    assert await fake.invalid_session(resumable=False) == 1
    assert await fake.wait_for_stat("identifies", 2, RECONNECT_S) == 2
    async with asyncio.timeout(READY_S):
        await bot.ready.wait()
    assert fake.stats.resumes == 0


async def test_a_route_429_is_honoured(fake: FakeDiscord, rest: hikari.api.RESTClient) -> None:
    fake.rate_limit(routes.CREATE_MESSAGE, count=1, retry_after=0.4)
    message = await rest.create_message(int(fake.channel_id), "after the wait")
    limited, allowed = fake.stats.calls(routes.CREATE_MESSAGE)
    assert (limited.status, allowed.status) == (429, 200)
    assert allowed.at - limited.at >= 0.4
    assert fake.stats.early_retries == 0
    assert fake.messages()[-1]["id"] == str(message.id)


async def test_a_global_429_holds_every_route(
    fake: FakeDiscord, rest: hikari.api.RESTClient
) -> None:
    channel = int(fake.channel_id)
    await rest.create_message(channel, "warm")  # hikari knows both buckets now
    await rest.fetch_channel(channel)
    fake.rate_limit(GLOBAL, count=1, retry_after=0.3)
    first = asyncio.create_task(rest.create_message(channel, "one"))
    await fake.state.changes.wait_for(lambda: fake.stats.rate_limited, 1.0)
    await asyncio.sleep(0.05)  # the fake counts the 429 before hikari has read it
    await rest.fetch_channel(channel)  # another route, sent while the global limit holds
    await first
    [limited] = [call for call in fake.stats.rest_log if call.status == 429]
    [fetched] = fake.stats.calls(routes.GET_CHANNEL)[1:]
    assert fetched.at - limited.at >= 0.3
    assert (fake.stats.rate_limited, fake.stats.early_retries) == (1, 0)


async def test_threads_commands_and_the_guild_over_rest(
    fake: FakeDiscord, rest: hikari.api.RESTClient
) -> None:
    parent = await rest.create_message(int(fake.channel_id), "Story S-1")
    thread = await rest.create_message_thread(int(fake.channel_id), parent, "S-1: login")
    await rest.create_message(thread, "red: 2 failing tests")
    assert thread.id == parent.id  # a thread started from a message takes its id
    assert [m["content"] for m in fake.messages(str(thread.id))] == ["red: 2 failing tests"]
    assert [t["name"] for t in fake.threads()] == ["S-1: login"]
    app = int(fake.app_id)
    builder = rest.slash_command_builder("story", "Work on a story")
    [created] = await rest.set_application_commands(app, [builder], int(fake.guild_id))
    [listed] = await rest.fetch_application_commands(app, int(fake.guild_id))
    assert (created.id, listed.name) == (listed.id, "story")
    guild = await rest.fetch_guild(int(fake.guild_id))
    assert [r.name for r in guild.roles.values()] == ["@everyone", "admin"]


async def test_discord_errors_reach_hikari_as_its_own_exceptions(
    fake: FakeDiscord, rest: hikari.api.RESTClient
) -> None:
    with pytest.raises(hikari.NotFoundError):
        await rest.fetch_channel(1)
    with pytest.raises(hikari.BadRequestError):
        await rest.create_message(int(fake.channel_id), "x" * 2001)
    bad = hikari.RESTApp(url=fake.rest_url)
    await bad.start()
    try:
        async with bad.acquire("bm9wZQ.x.y", hikari.TokenType.BOT) as stranger:
            with pytest.raises(hikari.UnauthorizedError):
                await stranger.fetch_my_user()
    finally:
        await bad.close()


async def test_a_late_acknowledgement_is_refused_like_discord_does(
    rest: hikari.api.RESTClient,
) -> None:
    async with FakeDiscord(ack_deadline_s=0.05) as strict:
        record = await strict.inject_slash("ping")
        await asyncio.sleep(0.1)
        client = hikari.RESTApp(url=strict.rest_url)
        await client.start()
        try:
            async with client.acquire(strict.token, hikari.TokenType.BOT) as late:
                with pytest.raises(hikari.NotFoundError):
                    await late.create_interaction_response(
                        int(record.id), record.token, hikari.ResponseType.MESSAGE_CREATE, "late"
                    )
        finally:
            await client.close()


async def test_the_peak_rest_rate_is_measured(
    fake: FakeDiscord, rest: hikari.api.RESTClient
) -> None:
    await asyncio.gather(*(rest.fetch_channel(int(fake.channel_id)) for _ in range(20)))
    assert fake.stats.max_rest_rate >= 20
    assert fake.stats.rest_calls[routes.GET_CHANNEL] == 20


async def test_the_control_plane_drives_the_fake_over_http(fake: FakeDiscord, bot: TinyBot) -> None:
    async with httpx.AsyncClient(base_url=fake.base_url) as control:
        info = (await control.get("/_fake/info")).json()
        sent = await control.post("/_fake/slash", json={"name": "ping", "options": {"x": 1}})
        assert sent.status_code == 200
        await fake.wait_for_messages(1)
        listed = await control.get(f"/_fake/channels/{info['channel_id']}/messages")
        stats = (await control.get("/_fake/stats")).json()
        fake.world.create_thread(fake.channel_id, "S-1", from_message=None, kind=PUBLIC_THREAD)
        threads = (await control.get(f"/_fake/channels/{info['channel_id']}/threads")).json()
    assert info["token"] == fake.token
    assert [m["content"] for m in listed.json()] == ["pong 1"]
    assert [t["name"] for t in threads] == ["S-1"]
    assert stats["identifies"] == 1
