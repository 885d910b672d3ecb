"""`POST /api/v1/discord/interactions`: signed by Discord or refused with 401; then the same
handler as the gateway (roles, rate limit, options, replays, autocomplete, four eyes)."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from nacl.signing import SigningKey
from redis.asyncio import Redis

from services.api.app import create_app
from services.gateway.discord import wire
from shared.domain.models import ScrumState
from shared.fakes.discord import payloads
from shared.fakes.discord.interactions import (
    Invoker,
    button_data,
    command_data,
    interaction_payload,
)
from shared.platform.settings import load_settings
from shared.state.store import Store
from tests.factories import dump_project, make_project_in_state, register_project
from tests.integration.discord_fixtures import discord_path

pytestmark = pytest.mark.integration

KEY = SigningKey(bytes(range(32)))  # fixed: ids of parametrized tests must match across workers
URL = "/api/v1/discord/interactions"
GUILD, CHANNEL, APP = "700000000000000001", "700000000000000002", "700000000000000003"
ROLE_IDS = {"viewer": "9001", "member": "9002", "approver": "9003", "admin": "9004"}
PER_MINUTE = 4
_ids = iter(range(800_000_000_000_000_000, 900_000_000_000_000_000))


def new_id() -> str:
    return str(next(_ids))


@pytest.fixture
async def api(
    redis: Redis, redis_url: str, _empty_config_file: Path, request: pytest.FixtureRequest
) -> AsyncIterator[httpx.AsyncClient]:
    discord: dict[str, Any] = {
        "public_key": KEY.verify_key.encode().hex(),
        "roles": {"*": {rid: name for name, rid in ROLE_IDS.items()}},
        "max_commands_per_minute": PER_MINUTE,
        "rest_url": "http://127.0.0.1:9/api/v10",  # never called by these tests
        "public_api_url": "https://awf.example",
        **getattr(request, "param", {}),
    }
    settings = load_settings(
        _empty_config_file,
        awf_env="test",
        redis_url=redis_url,
        orchestrator={"max_concurrent_projects": 1_000},
        discord=discord,
    )
    app = create_app(settings)
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            yield client


def payload(
    kind: int, data: dict[str, Any], role: str | None, user_id: str = "600"
) -> dict[str, Any]:
    user = payloads.user(user_id, f"user{user_id}")
    member = payloads.member(user, [ROLE_IDS[role]] if role else [], permissions="0")
    channel = payloads.text_channel(CHANNEL, GUILD, "general")
    invoker = Invoker(member=member, channel=channel, app_permissions="0")
    return interaction_payload((new_id(), "tok-" + new_id(), APP), kind, invoker, data)


def slash(
    command: str, options: dict[str, Any], role: str | None = "admin", **kw: Any
) -> dict[str, Any]:
    data = command_data(new_id(), discord_path(command).split(), options, GUILD)
    return payload(wire.COMMAND, data, role, **kw)


def signed(body: bytes, *, age_s: float = 0, key: SigningKey = KEY) -> dict[str, str]:
    timestamp = str(int(time.time() - age_s))
    signature = key.sign(timestamp.encode() + body).signature.hex()
    return {"X-Signature-Ed25519": signature, "X-Signature-Timestamp": timestamp}


async def post(api: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    raw = json.dumps(body).encode()
    return await api.post(URL, content=raw, headers=signed(raw))


async def test_a_signed_ping_gets_pong(api: httpx.AsyncClient) -> None:
    response = await post(api, {"type": 1, "id": "1", "token": "t", "application_id": APP})
    assert (response.status_code, response.json()) == (200, {"type": 1})


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Missing X-Signature"),
        ({"X-Signature-Timestamp": "1"}, "Missing X-Signature"),
        ("wrong-key", "Invalid request signature"),
        ("tampered", "Invalid request signature"),
        ("stale", "more than 300 s"),
    ],
)
async def test_unsigned_or_stale_requests_get_401_saying_why(
    api: httpx.AsyncClient, headers: Any, message: str
) -> None:
    body = b'{"type":1}'
    if headers == "wrong-key":
        headers = signed(body, key=SigningKey.generate())
    elif headers == "tampered":
        headers = signed(b'{"type":2}')
    elif headers == "stale":
        headers = signed(body, age_s=301)
    response = await api.post(URL, content=body, headers=headers)
    assert response.status_code == 401
    assert message in response.json()["message"]


async def test_a_signed_command_is_handled(api: httpx.AsyncClient, redis: Redis) -> None:
    pid = await register_project(Store(redis))
    response = await post(api, slash("backlog add_story", {"project": pid, "title": "Via HTTP"}))
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == 4
    embed = body["data"]["embeds"][0]
    assert embed["title"] == f"/backlog add_story · {pid}"
    assert embed["url"] == f"https://awf.example/api/v1/projects/{pid}/timeline"


@pytest.mark.parametrize(
    ("role", "options", "expected"),
    [
        (None, {"title": "x"}, "You have no role that may use this bot"),
        ("viewer", {"title": "x"}, "needs the member role"),
        (
            "admin",
            {"title": "x", "priority": 0},
            "Invalid options for /backlog add_story: priority",
        ),
        ("admin", {"title": "x", "colour": "red"}, "colour: Extra inputs are not permitted"),
    ],
    ids=["unknown-user", "wrong-role", "out-of-range", "unknown-option"],
)
async def test_refusals_are_ephemeral_and_change_nothing(
    api: httpx.AsyncClient, redis: Redis, role: str | None, options: dict[str, Any], expected: str
) -> None:
    pid = await register_project(Store(redis))
    before = await dump_project(redis, pid)
    response = await post(api, slash("backlog add_story", {"project": pid, **options}, role))
    data = response.json()["data"]
    assert data["flags"] & wire.EPHEMERAL
    assert expected in data["content"]
    assert await dump_project(redis, pid) == before


async def test_not_json_is_a_400(api: httpx.AsyncClient) -> None:
    body = b"not json"
    response = await api.post(URL, content=body, headers=signed(body))
    assert response.status_code == 400


async def test_a_replayed_interaction_changes_things_once(
    api: httpx.AsyncClient, redis: Redis
) -> None:
    pid = await register_project(Store(redis))
    interaction = slash("backlog add_story", {"project": pid, "title": "Once"})
    first = (await post(api, interaction)).json()
    before = await dump_project(redis, pid)
    again = (await post(api, interaction)).json()
    assert first["type"] == 4
    assert not first["data"].get("flags")
    assert again["data"]["flags"] & wire.EPHEMERAL
    assert "already handled" in again["data"]["content"]
    assert await dump_project(redis, pid) == before


async def test_each_user_is_rate_limited_per_minute(api: httpx.AsyncClient, redis: Redis) -> None:
    pid = await register_project(Store(redis))
    answers = [
        (await post(api, slash("backlog view", {"project": pid}, "viewer"))).json()
        for _ in range(PER_MINUTE + 1)
    ]
    assert [bool(a["data"].get("flags")) for a in answers] == [False] * PER_MINUTE + [True]
    assert "at most 4 commands a minute" in answers[-1]["data"]["content"]
    other = (
        await post(api, slash("backlog view", {"project": pid}, "viewer", user_id="601"))
    ).json()
    assert not other["data"].get("flags")


async def test_autocomplete_offers_projects_and_stories(
    api: httpx.AsyncClient, redis: Redis
) -> None:
    store = Store(redis)
    pid = await make_project_in_state(store, ScrumState.IDLE)
    focused = {"name": "project", "type": 3, "value": pid[:4], "focused": True}
    remove: dict[str, Any] = {"name": "remove", "type": 1, "options": [focused]}
    data = {"name": "backlog", "type": 1, "options": [remove]}
    projects = (await post(api, payload(wire.AUTOCOMPLETE, data, "viewer"))).json()
    assert projects["type"] == 8
    assert pid in [c["value"] for c in projects["data"]["choices"]]
    story = {"name": "story_id", "type": 3, "value": "story-", "focused": True}
    remove["options"] = [{"name": "project", "type": 3, "value": pid}, story]
    stories = (await post(api, payload(wire.AUTOCOMPLETE, data, "viewer"))).json()
    labels = [c["name"] for c in stories["data"]["choices"]]
    assert len(labels) == 2
    assert all("Plain story" in label for label in labels)
    nobody = (await post(api, payload(wire.AUTOCOMPLETE, data, None))).json()
    assert nobody["data"]["choices"] == []


@pytest.mark.parametrize("api", [{"approver_must_differ": True}], indirect=True)
async def test_who_asked_for_an_approval_may_not_decide_it(
    api: httpx.AsyncClient, redis: Redis
) -> None:
    pid = await make_project_in_state(Store(redis), ScrumState.IDLE)
    epic = {"project": pid, "description": "Checkout", "stories": "Cart"}
    created = (await post(api, slash("epic", epic, "admin", user_id="700"))).json()
    approve = next(
        b["custom_id"]
        for row in created["data"]["components"]
        for b in row["components"]
        if b["label"] == "Approve"
    )
    own = (await post(api, payload(wire.COMPONENT, button_data(approve), "approver", "700"))).json()
    assert own["data"]["flags"] & wire.EPHEMERAL
    assert "another approver must decide" in own["data"]["content"]
    typed = (await post(api, slash("approve", {"project": pid}, "approver", user_id="700"))).json()
    assert "another approver must decide" in typed["data"]["content"]
    other = (
        await post(api, payload(wire.COMPONENT, button_data(approve), "approver", "701"))
    ).json()
    assert other["type"] == 7
    assert "✅ Approved by <@701>" in other["data"]["content"]
