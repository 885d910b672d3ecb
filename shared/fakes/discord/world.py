"""The guild the fake serves: channels, threads, messages, roles, members and commands.

Every message write is appended to its channel's transcript, in order, so a test can read
what the bot said (and edited, and deleted) where.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Literal

from shared.fakes.discord import payloads
from shared.fakes.discord.errors import unknown
from shared.fakes.discord.ids import Snowflakes
from shared.fakes.discord.messages import apply_edit, new_message
from shared.fakes.discord.payloads import Json

__all__ = ["Action", "TranscriptEntry", "World"]

Action = Literal["create", "edit", "delete", "thread"]
_ADMINISTRATOR = str(1 << 3)


@dataclass(frozen=True)
class TranscriptEntry:
    action: Action
    message_id: str
    message: Json
    via: str
    at: float = field(default_factory=time.monotonic)

    @property
    def content(self) -> str:
        return str(self.message.get("content") or "")


class World:
    """One guild with one text channel, the bot, and one human member who drives it."""

    def __init__(self, app_id: str, *, bot_name: str = "awf-bot", guild_name: str = "awf") -> None:
        self.ids = Snowflakes()
        self.app_id = app_id
        self.bot = payloads.bot_user(app_id, bot_name)
        self.human = payloads.user(self.ids.next(), "tester")
        self.guild = payloads.guild(self.ids.next(), guild_name, self.human["id"], app_id)
        self.guild_id: str = self.guild["id"]
        admin = payloads.role(self.ids.next(), "admin", position=1, permissions=_ADMINISTRATOR)
        self.guild["roles"].append(admin)
        self.members = {
            self.human["id"]: payloads.member(self.human, [admin["id"]]),
            app_id: payloads.member(self.bot, []),
        }
        self.channels: dict[str, Json] = {}
        self.channel_id: str = self.create_channel("general")["id"]
        self._messages: dict[str, dict[str, Json]] = {}
        self._transcripts: dict[str, list[TranscriptEntry]] = {}

    def channel(self, channel_id: str) -> Json:
        if channel_id not in self.channels:
            raise unknown("Channel")
        return self.channels[channel_id]

    def create_channel(self, name: str, **fields: Any) -> Json:
        position = len(self.channels)
        channel = payloads.text_channel(self.ids.next(), self.guild_id, name, position=position)
        channel.update(fields)
        self.channels[channel["id"]] = channel
        return channel

    def create_thread(
        self, parent_id: str, name: str, *, from_message: str | None, kind: int
    ) -> Json:
        """A thread; one started from a message takes that message's id, as on Discord."""
        parent = self.channel(parent_id)
        thread_id = from_message or self.ids.next()
        if from_message is not None:
            self.message(parent_id, from_message)
        created = payloads.thread(thread_id, parent, name, self.app_id, kind=kind)
        self.channels[thread_id] = created
        if from_message is not None:
            message = {**self.message(parent_id, from_message), "thread": created}
            self._messages[parent_id][from_message] = message
        self._log(parent_id, "thread", thread_id, created, "bot")
        return created

    def threads(self, parent_id: str) -> list[Json]:
        return [c for c in self.channels.values() if c.get("parent_id") == parent_id]

    def post(self, channel_id: str, author: Json, body: Json, via: str, **extra: Any) -> Json:
        channel = self.channel(channel_id)
        message = new_message(self.ids.next(), channel, author, body, **extra)
        self._messages.setdefault(channel_id, {})[message["id"]] = message
        channel["last_message_id"] = message["id"]
        if "message_count" in channel:
            channel["message_count"] += 1
        self._log(channel_id, "create", message["id"], message, via)
        return message

    def edit(self, channel_id: str, message_id: str, body: Json, via: str) -> Json:
        message = apply_edit(self.message(channel_id, message_id), body)
        self._messages[channel_id][message_id] = message
        self._log(channel_id, "edit", message_id, message, via)
        return message

    def delete(self, channel_id: str, message_id: str, via: str) -> None:
        message = self._messages.get(channel_id, {}).pop(message_id, None)
        if message is None:
            raise unknown("Message")
        self._log(channel_id, "delete", message_id, message, via)

    def message(self, channel_id: str, message_id: str) -> Json:
        self.channel(channel_id)
        found = self._messages.get(channel_id, {}).get(message_id)
        if found is None:
            raise unknown("Message")
        return found

    def find_message(self, message_id: str) -> Json:
        for messages in self._messages.values():
            if message_id in messages:
                return messages[message_id]
        raise unknown("Message")

    def messages(self, channel_id: str) -> list[Json]:
        """The channel's current messages, oldest first."""
        return list(self._messages.get(channel_id, {}).values())

    def transcript(self, channel_id: str) -> list[TranscriptEntry]:
        return list(self._transcripts.get(channel_id, []))

    def _log(
        self, channel_id: str, action: Action, message_id: str, message: Json, via: str
    ) -> None:
        entry = TranscriptEntry(action, message_id, message, via)
        self._transcripts.setdefault(channel_id, []).append(entry)

    def add_role(self, name: str, permissions: str = "0") -> Json:
        position = len(self.guild["roles"])
        created = payloads.role(self.ids.next(), name, position=position, permissions=permissions)
        self.guild["roles"].append(created)
        return created

    def member(self, user_id: str) -> Json:
        if user_id not in self.members:
            raise unknown("Member")
        return self.members[user_id]

    def guild_create(self) -> Json:
        """The GUILD_CREATE payload: the guild with its channels, threads and members."""
        channels = [c for c in self.channels.values() if "thread_metadata" not in c]
        threads = [c for c in self.channels.values() if "thread_metadata" in c]
        return {
            **self.guild,
            "joined_at": self.members[self.app_id]["joined_at"],
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "channels": channels,
            "threads": threads,
            "members": list(self.members.values()),
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
        }
