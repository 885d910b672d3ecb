"""The REST routes the fake serves, as ``"METHOD /path/{template}"`` keys.

The same strings name routes in the stats (``rest_calls``) and in ``rate_limit(...)``.
"""

from __future__ import annotations

__all__ = [
    "API_PREFIX",
    "CREATE_CHANNEL",
    "CREATE_FOLLOWUP",
    "CREATE_GLOBAL_COMMAND",
    "CREATE_GUILD_COMMAND",
    "CREATE_MESSAGE",
    "CREATE_ROLE",
    "DELETE_GLOBAL_COMMAND",
    "DELETE_GUILD_COMMAND",
    "DELETE_MESSAGE",
    "DELETE_ORIGINAL",
    "EDIT_CHANNEL",
    "EDIT_FOLLOWUP",
    "EDIT_MESSAGE",
    "EDIT_ORIGINAL",
    "GATEWAY_BOT",
    "GET_CHANNEL",
    "GET_GUILD",
    "GET_MEMBER",
    "GET_MESSAGE",
    "GET_ORIGINAL",
    "INTERACTION_CALLBACK",
    "JOIN_THREAD",
    "LIST_CHANNELS",
    "LIST_GLOBAL_COMMANDS",
    "LIST_GUILD_COMMANDS",
    "LIST_MEMBERS",
    "LIST_MESSAGES",
    "LIST_ROLES",
    "MY_APPLICATION",
    "MY_OAUTH_APPLICATION",
    "MY_USER",
    "OVERWRITE_GLOBAL_COMMANDS",
    "OVERWRITE_GUILD_COMMANDS",
    "PUT_MEMBER_ROLE",
    "REMOVE_MEMBER_ROLE",
    "START_THREAD",
    "START_THREAD_FROM_MESSAGE",
    "path_of",
]

API_PREFIX = "/api/v10"

GATEWAY_BOT = "GET /gateway/bot"
MY_USER = "GET /users/@me"
MY_APPLICATION = "GET /applications/@me"
MY_OAUTH_APPLICATION = "GET /oauth2/applications/@me"

_GLOBAL = "/applications/{application_id}/commands"
_GUILD = "/applications/{application_id}/guilds/{guild_id}/commands"
OVERWRITE_GLOBAL_COMMANDS = f"PUT {_GLOBAL}"
LIST_GLOBAL_COMMANDS = f"GET {_GLOBAL}"
CREATE_GLOBAL_COMMAND = f"POST {_GLOBAL}"
DELETE_GLOBAL_COMMAND = f"DELETE {_GLOBAL}/{{command_id}}"
OVERWRITE_GUILD_COMMANDS = f"PUT {_GUILD}"
LIST_GUILD_COMMANDS = f"GET {_GUILD}"
CREATE_GUILD_COMMAND = f"POST {_GUILD}"
DELETE_GUILD_COMMAND = f"DELETE {_GUILD}/{{command_id}}"

_CHANNEL = "/channels/{channel_id}"
_MESSAGE = f"{_CHANNEL}/messages/{{message_id}}"
GET_CHANNEL = f"GET {_CHANNEL}"
EDIT_CHANNEL = f"PATCH {_CHANNEL}"
LIST_MESSAGES = f"GET {_CHANNEL}/messages"
CREATE_MESSAGE = f"POST {_CHANNEL}/messages"
GET_MESSAGE = f"GET {_MESSAGE}"
EDIT_MESSAGE = f"PATCH {_MESSAGE}"
DELETE_MESSAGE = f"DELETE {_MESSAGE}"
START_THREAD_FROM_MESSAGE = f"POST {_MESSAGE}/threads"
START_THREAD = f"POST {_CHANNEL}/threads"
JOIN_THREAD = f"PUT {_CHANNEL}/thread-members/@me"

_GUILD_PATH = "/guilds/{guild_id}"
GET_GUILD = f"GET {_GUILD_PATH}"
LIST_CHANNELS = f"GET {_GUILD_PATH}/channels"
CREATE_CHANNEL = f"POST {_GUILD_PATH}/channels"
LIST_ROLES = f"GET {_GUILD_PATH}/roles"
CREATE_ROLE = f"POST {_GUILD_PATH}/roles"
LIST_MEMBERS = f"GET {_GUILD_PATH}/members"
GET_MEMBER = f"GET {_GUILD_PATH}/members/{{user_id}}"
PUT_MEMBER_ROLE = f"PUT {_GUILD_PATH}/members/{{user_id}}/roles/{{role_id}}"
REMOVE_MEMBER_ROLE = f"DELETE {_GUILD_PATH}/members/{{user_id}}/roles/{{role_id}}"

_WEBHOOK = "/webhooks/{application_id}/{token}"
INTERACTION_CALLBACK = "POST /interactions/{interaction_id}/{token}/callback"
CREATE_FOLLOWUP = f"POST {_WEBHOOK}"
GET_ORIGINAL = f"GET {_WEBHOOK}/messages/@original"
EDIT_ORIGINAL = f"PATCH {_WEBHOOK}/messages/@original"
DELETE_ORIGINAL = f"DELETE {_WEBHOOK}/messages/@original"
EDIT_FOLLOWUP = f"PATCH {_WEBHOOK}/messages/{{message_id}}"


def path_of(route: str) -> tuple[str, str]:
    """(method, full path under the API prefix) of a route key."""
    method, path = route.split(" ", 1)
    return method, API_PREFIX + path
