"""The demo's Discord side as its user sees it: slash commands typed and buttons clicked in the
project's channel of the fake Discord (its control plane injects them into the gateway, where
our bot answers them), and what the bot wrote there, read back from the fake's recording."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

import httpx

from services.cli.demo_agents import DemoStalled
from services.cli.discord_tier import FakeInfo

__all__ = ["DemoDiscord", "Json", "buttons_of"]

Json = dict[str, Any]
_LOADING = 1 << 7  # a deferred answer, not written yet
_POLL_S = 0.2


class DemoDiscord:
    def __init__(self, info: FakeInfo, timeout_s: float = 60.0) -> None:
        self.info = info
        self.timeout_s = timeout_s
        self.http = httpx.Client(base_url=info.base_url, timeout=15.0)
        self.invoked: dict[str, str] = {}  # interaction id -> what the user did, "/sprint status"

    @property
    def channel_id(self) -> str:
        return self.info.channel_id

    def close(self) -> None:
        self.http.close()

    def slash(self, name: str, options: dict[str, Any] | None = None) -> Json:
        """Run ``/name`` in the project's channel; the bot's answer once it is written."""
        options = options or {}
        record = self._post("/_fake/slash", {"name": name, "options": options})
        typed = " ".join([f"/{name}", *(f"{k}:{v}" for k, v in options.items())])
        self.invoked[record["id"]] = typed
        return self.wait_for(lambda found: _answer(found, record["id"]), f"the answer to {typed}")

    def click(self, message: Json, button: Json) -> Json:
        """Click ``button`` on ``message``; the message once the bot has updated it."""
        custom_id = str(button["custom_id"])
        record = self._post("/_fake/click", {"custom_id": custom_id, "message_id": message["id"]})
        self.invoked[record["id"]] = f"clicked {button.get('label', custom_id)}"
        return self.wait_for(
            lambda found: _without_button(found, message["id"], custom_id),
            f"the bot's update after the {button.get('label')} click",
        )

    def messages(self, channel_id: str | None = None) -> list[Json]:
        """A channel's (or thread's) messages as they stand now, oldest first."""
        return self._get(f"/_fake/channels/{channel_id or self.channel_id}/messages")

    def threads(self) -> list[Json]:
        """The threads of the project's channel, oldest first."""
        return self._get(f"/_fake/channels/{self.channel_id}/threads")

    @functools.cached_property
    def channel_name(self) -> str:
        """The channel's name, read over REST as the bot would."""
        channel = self._rest(f"/channels/{self.channel_id}")
        return str(channel.get("name") or self.channel_id)

    @functools.cached_property
    def member_names(self) -> dict[str, str]:
        """User id -> name of the guild's members, read over REST as the bot would."""
        members = self._rest(f"/guilds/{self.info.guild_id}/members")
        return {str(m["user"]["id"]): str(m["user"]["username"]) for m in members}

    def wait_for(
        self, found: Callable[[list[Json]], Json | None], what: str, timeout_s: float | None = None
    ) -> Json:
        """The first non-None ``found(channel messages)``, polled until the timeout."""
        deadline = time.monotonic() + (timeout_s or self.timeout_s)
        while time.monotonic() < deadline:
            result = found(self.messages())
            if result is not None:
                return result
            time.sleep(_POLL_S)
        raise DemoStalled(f"Discord: {what} did not appear in time; see the gateway log")

    def _post(self, path: str, body: Json) -> Json:
        response = self.http.post(path, json=body)
        response.raise_for_status()
        record: Json = response.json()
        return record

    def _rest(self, path: str) -> Any:
        headers = {"Authorization": f"Bot {self.info.token}"}
        response = self.http.get(f"/api/v10{path}", headers=headers)
        response.raise_for_status()
        return response.json()

    def _get(self, path: str) -> list[Json]:
        response = self.http.get(path)
        response.raise_for_status()
        items: list[Json] = response.json()
        return items


def buttons_of(message: Json) -> list[Json]:
    """Every button on a message, row by row."""
    rows = message.get("components") or []
    return [c for row in rows for c in row.get("components") or [] if c.get("custom_id")]


def _answer(messages: list[Json], interaction_id: str) -> Json | None:
    for message in messages:
        meta = message.get("interaction_metadata") or {}
        if meta.get("id") == interaction_id and not int(message.get("flags") or 0) & _LOADING:
            return message
    return None


def _without_button(messages: list[Json], message_id: str, custom_id: str) -> Json | None:
    for message in messages:
        if message["id"] == message_id:
            ids = {b["custom_id"] for b in buttons_of(message)}
            return message if custom_id not in ids else None
    return None
