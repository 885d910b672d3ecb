"""Discord JSON objects as the v10 API sends them, with the fields hikari 2.7 requires.

hikari reads many fields with ``payload[key]``; leaving one out raises KeyError inside its
entity factory (logged, not raised to the test), so these builders err on the complete side.
"""

from __future__ import annotations

from typing import Any

from shared.fakes.discord.ids import iso_now

__all__ = [
    "GUILD_TEXT",
    "PUBLIC_THREAD",
    "Json",
    "application",
    "bot_user",
    "command",
    "guild",
    "member",
    "role",
    "text_channel",
    "thread",
    "user",
]

Json = dict[str, Any]

GUILD_TEXT = 0
PUBLIC_THREAD = 11
_EVERYONE_PERMISSIONS = "104324673"


def user(user_id: str, username: str, *, bot: bool = False) -> Json:
    return {
        "id": user_id,
        "username": username,
        "global_name": None if bot else username.title(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


def bot_user(user_id: str, username: str) -> Json:
    """The bot's own user (``users/@me`` and READY): needs ``mfa_enabled`` and ``flags``."""
    return {**user(user_id, username, bot=True), "mfa_enabled": False, "flags": 0, "verified": True}


def application(app_id: str, name: str, owner: Json) -> Json:
    return {
        "id": app_id,
        "name": name,
        "description": "",
        "icon": None,
        "bot_public": False,
        "bot_require_code_grant": False,
        "owner": owner,
        "verify_key": "00" * 32,
        "flags": 0,
        "approximate_guild_count": 1,
        "approximate_user_install_count": 0,
        "bot": bot_user(app_id, name),
    }


def role(role_id: str, name: str, *, position: int = 0, permissions: str = "0") -> Json:
    return {
        "id": role_id,
        "name": name,
        "color": 0,
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": permissions,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def member(member_user: Json, roles: list[str], *, permissions: str | None = None) -> Json:
    """A guild member; interaction members also carry their computed ``permissions``."""
    body: Json = {
        "user": member_user,
        "roles": roles,
        "nick": None,
        "avatar": None,
        "joined_at": iso_now(),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
    }
    if permissions is not None:
        body["permissions"] = permissions
    return body


def text_channel(channel_id: str, guild_id: str, name: str, *, position: int = 0) -> Json:
    return {
        "id": channel_id,
        "type": GUILD_TEXT,
        "guild_id": guild_id,
        "name": name,
        "position": position,
        "permission_overwrites": [],
        "topic": None,
        "nsfw": False,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "parent_id": None,
        "flags": 0,
    }


def thread(thread_id: str, parent: Json, name: str, owner_id: str, *, kind: int) -> Json:
    return {
        "id": thread_id,
        "type": kind,
        "guild_id": parent["guild_id"],
        "parent_id": parent["id"],
        "name": name,
        "owner_id": owner_id,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "message_count": 0,
        "member_count": 1,
        "flags": 0,
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": 1440,
            "archive_timestamp": iso_now(),
            "locked": False,
            "create_timestamp": iso_now(),
        },
    }


def guild(guild_id: str, name: str, owner_id: str, app_id: str) -> Json:
    """The REST guild object; GUILD_CREATE extends it with channels, members and so on."""
    return {
        "id": guild_id,
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "features": [],
        "owner_id": owner_id,
        "application_id": None,
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "max_members": 500_000,
        "max_presences": None,
        "roles": [role(guild_id, "@everyone", permissions=_EVERYONE_PERMISSIONS)],
        "emojis": [],
        "stickers": [],
    }


def command(command_id: str, app_id: str, body: Json, guild_id: str | None) -> Json:
    """An application command as stored: the client's definition plus Discord's fields."""
    stored = {
        "type": 1,
        "description": "",
        "options": [],
        "default_member_permissions": None,
        "nsfw": False,
        "contexts": None,
        "integration_types": [0],
        **body,
        "id": command_id,
        "application_id": app_id,
        "version": command_id,
    }
    if guild_id is not None:
        stored["guild_id"] = guild_id
    return stored
