"""The HTTP API's resources over the ASGI transport, each read back from the stored state."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from services.api.app import create_app
from shared.domain.commands import COMMANDS
from shared.domain.models import ScrumState
from shared.domain.scrum import allowed_commands
from shared.platform.embedded_redis import EmbeddedRedis
from shared.state.store import Store
from shared.workflow.system import block_story, complete_story
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are found by name
    API,
    ApiClient,
    api_app_fixture,
    api_fixture,
    api_settings_fixture,
    command,
    expect,
    register,
    server_errors_fixture,
    tokens_fixture,
)

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from shared.platform.settings import Settings

pytestmark = pytest.mark.integration

PID = "calc"
P = f"{API}/projects/{PID}"


async def add_story(api: ApiClient, title: str, **args: Any) -> str:
    body = expect(await api.post(f"{P}/stories", json={"title": title, **args}), 201)
    story_id: str = body["result"]["story_id"]
    return story_id


async def create_epic(api: ApiClient, *titles: str) -> dict[str, Any]:
    stories = [{"title": t} for t in titles]
    body = expect(
        await api.post(f"{P}/epics", json={"description": "Calc", "stories": stories}), 201
    )
    result: dict[str, Any] = body["result"]
    return result


async def project_version(api: ApiClient) -> int:
    version: int = expect(await api.get(P), 200)["version"]
    return version


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


# --- projects -------------------------------------------------------------------------------


async def test_register_answers_201_with_the_version_as_etag(api: ApiClient) -> None:
    response = await api.post(
        f"{API}/projects", json={"repo_url": "/srv/git/calc.git", "name": "Calculator", "id": PID}
    )
    body = expect(response, 201)
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Idempotent-Replayed"] == "false"
    assert body["command"] == "project register"
    assert body["project_version"] == 1
    assert body["result"] == {"created": True, "project_id": PID}
    project = await api.get(P)
    assert expect(project, 200)["name"] == "Calculator"
    assert project.headers["ETag"] == '"1"'
    again = await api.post(f"{API}/projects", json={"repo_url": "/srv/git/x.git", "id": PID})
    assert expect(again, 409)["type"] == "already_exists"


async def test_project_list_pages_through_every_project_once(api: ApiClient) -> None:
    registered = [f"p{n}" for n in range(7)]
    for pid in registered:
        await register(api, pid, start=False)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = expect(await api.get(f"{API}/projects", params=params), 200)
        assert page["total"] == 7
        assert len(page["items"]) <= 3
        seen += ids(page)
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == registered
    assert len(seen) == len(set(seen))


async def test_get_project_etag_is_its_version(api: ApiClient) -> None:
    await register(api, PID)
    await add_story(api, "one")
    response = await api.get(P)
    body = expect(response, 200)
    assert body["version"] == 3  # register, start, add_story
    assert response.headers["ETag"] == f'"{body["version"]}"'
    assert body["status"] == "active"
    assert body["state"] == "IDLE"


async def test_state_lists_the_allowed_commands(api: ApiClient) -> None:
    await register(api, PID)
    epic = await create_epic(api, "proposed")
    response = await api.get(f"{P}/state", headers=api.as_role("viewer"))
    body = expect(response, 200)
    result = body["result"]
    assert result["state"] == "BACKLOG_READY"
    assert result["allowed_commands"] == list(allowed_commands(ScrumState.BACKLOG_READY))
    assert "sprint plan" in result["allowed_commands"]
    assert "sprint start" not in result["allowed_commands"]
    assert result["pending_approvals_total"] == 1
    assert result["pending_approvals"][0]["subject_id"] == epic["proposed_story_ids"][0]
    assert response.headers["ETag"] == f'"{await project_version(api)}"'


# --- epics ----------------------------------------------------------------------------------


async def test_epics_create_list_and_read_one(api: ApiClient) -> None:
    await register(api, PID)
    created = await api.post(f"{P}/epics", json={"description": "Basic arithmetic\nmore"})
    first = expect(created, 201)["result"]
    assert first["title"] == "Basic arithmetic"
    assert created.headers["ETag"] == f'"{await project_version(api)}"'
    second = await create_epic(api, "add", "sub")
    page = expect(await api.get(f"{P}/epics", headers=api.as_role("viewer")), 200)
    assert ids(page) == [second["epic_id"], first["epic_id"]]  # newest first
    assert page["total"] == 2
    one = await api.get(f"{P}/epics/{first['epic_id']}")
    body = expect(one, 200)
    assert body["description"] == "Basic arithmetic\nmore"
    assert one.headers["ETag"] == f'"{body["version"]}"'


async def test_replayed_register_and_start_answer_the_first_response(api: ApiClient) -> None:
    for url, body in ((f"{API}/projects", {"repo_url": "/srv/calc.git"}), (f"{P}/start", None)):
        key = {"Idempotency-Key": f"once {url}"}
        first = await api.post(url, json=body, headers=key)
        again = await api.post(url, json=body, headers=key)
        assert first.status_code == again.status_code < 300
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert again.headers.get("ETag") == first.headers["ETag"]
    assert expect(await api.get(P), 200)["version"] == 2


# --- stories --------------------------------------------------------------------------------


async def test_story_lists_by_status(api: ApiClient) -> None:
    await register(api, PID)
    low = await add_story(api, "low", priority=5)
    urgent = await add_story(api, "urgent", priority=1)
    normal = await add_story(api, "normal")
    urgent_too = await add_story(api, "urgent too", priority=1)
    epic = await create_epic(api, "proposed one", "proposed two")
    proposed = epic["proposed_story_ids"]

    backlog = expect(await api.get(f"{P}/stories"), 200)
    assert ids(backlog) == [urgent, urgent_too, normal, low]  # priority, then arrival
    assert backlog["total"] == 4
    assert {s["status"] for s in backlog["items"]} == {"backlog"}
    assert ids(expect(await api.get(f"{P}/stories", params={"status": "proposed"}), 200)) == (
        proposed
    )
    every = expect(await api.get(f"{P}/stories", params={"status": "all"}), 200)
    assert ids(every) == [low, urgent, normal, urgent_too, *proposed]  # arrival order

    first = expect(await api.get(f"{P}/stories", params={"limit": 3}), 200)
    rest = expect(await api.get(f"{P}/stories", params={"cursor": first["next_cursor"]}), 200)
    assert ids(first) + ids(rest) == [urgent, urgent_too, normal, low]
    assert rest["next_cursor"] is None


async def test_story_priority_and_delete_honour_the_story_etag(
    api: ApiClient, redis: Redis
) -> None:
    await register(api, PID)
    story = await add_story(api, "story")
    other = await add_story(api, "other", priority=1)
    url = f"{P}/stories/{story}"
    read = await api.get(url)
    assert read.headers["ETag"] == '"1"'
    assert expect(read, 200)["version"] == 1

    stale = await api.put(f"{url}/priority", json={"priority": "top"}, headers={"If-Match": '"0"'})
    assert expect(stale, 412)["current_version"] == 1
    assert expect(await api.get(url), 200)["priority"] == 3

    moved = await api.put(f"{url}/priority", json={"priority": "top"}, headers={"If-Match": '"1"'})
    assert expect(moved, 200)["result"].items() >= {"story_id": story, "priority": 1}.items()
    fresh = await api.get(url)
    assert fresh.headers["ETag"] == '"2"'
    assert ids(expect(await api.get(f"{P}/stories"), 200)) == [story, other]  # top beats 1

    gone = await api.delete(url, headers={"If-Match": '"1"'})
    assert expect(gone, 412)["current_version"] == 2
    removed = await api.delete(url, headers={"If-Match": fresh.headers["ETag"]})
    assert expect(removed, 200)["result"].items() >= {"story_id": story, "removed": True}.items()
    assert expect(await api.get(url), 200)["status"] == "removed"
    assert ids(expect(await api.get(f"{P}/stories"), 200)) == [other]


async def test_story_writes_without_if_match_apply(api: ApiClient) -> None:
    await register(api, PID)
    story = await add_story(api, "story")
    moved = await api.put(f"{P}/stories/{story}/priority", json={"priority": "low"})
    assert expect(moved, 200)["result"]["priority"] == 5
    assert expect(await api.delete(f"{P}/stories/{story}"), 200)["result"]["removed"] is True


async def test_story_write_answers_the_story_etag(api: ApiClient) -> None:
    """The ETag of a write is the new ETag of the resource written, usable as the next If-Match."""
    await register(api, PID)
    story = await add_story(api, "story")
    url = f"{P}/stories/{story}"
    first = await api.put(f"{url}/priority", json={"priority": "high"}, headers={"If-Match": '"1"'})
    expect(first, 200)
    assert first.headers["ETag"] == (await api.get(url)).headers["ETag"]
    second = await api.put(
        f"{url}/priority", json={"priority": "low"}, headers={"If-Match": first.headers["ETag"]}
    )
    expect(second, 200)


# --- sprints --------------------------------------------------------------------------------


async def test_sprints_plan_current_list_and_one(api: ApiClient) -> None:
    await register(api, PID)
    expect(await api.get(f"{P}/sprints/current"), 404)
    first, second = await add_story(api, "first"), await add_story(api, "second")
    await create_epic(api)  # IDLE -> BACKLOG_READY
    planned = await api.post(f"{P}/sprints", json={"story_ids": [second], "goal": "ship it"})
    sprint_id = expect(planned, 201)["result"]["sprint_id"]
    assert expect(planned, 201)["to_state"] == "SPRINT_PLANNED"
    current = await api.get(f"{P}/sprints/current")
    body = expect(current, 200)
    assert (body["id"], body["goal"], body["story_ids"]) == (sprint_id, "ship it", [second])
    assert body["status"] == "planned"
    assert current.headers["ETag"] == f'"{body["version"]}"'
    page = expect(await api.get(f"{P}/sprints"), 200)
    assert (ids(page), page["total"]) == ([sprint_id], 1)
    one = await api.get(f"{P}/sprints/{sprint_id}")
    assert expect(one, 200)["id"] == sprint_id
    assert one.headers["ETag"] == current.headers["ETag"]
    assert ids(expect(await api.get(f"{P}/stories"), 200)) == [first]  # planned left the backlog


# --- approvals ------------------------------------------------------------------------------


async def test_approvals_list_approve_and_reject(api: ApiClient) -> None:
    await register(api, PID)
    epic = await create_epic(api, "keep", "drop", "later")
    keep, drop, later = epic["proposed_story_ids"]
    pending = expect(await api.get(f"{P}/approvals", headers=api.as_role("viewer")), 200)
    assert [a["subject_id"] for a in pending["items"]] == [keep, drop, later]
    assert {a["status"] for a in pending["items"]} == {"pending"}
    by_story = {a["subject_id"]: a["id"] for a in pending["items"]}
    approver = api.as_role("approver", subject="paula")

    approved = await api.post(f"{P}/approvals/{by_story[keep]}/approve", headers=approver)
    assert expect(approved, 200)["result"] == {"approved_story_ids": [keep]}
    rejected = await api.post(
        f"{P}/approvals/{by_story[drop]}/reject", json={"reason": "out of scope"}, headers=approver
    )
    assert expect(rejected, 200)["result"]["rejected_story_ids"] == [drop]

    assert expect(await api.get(f"{P}/stories/{keep}"), 200)["status"] == "backlog"
    assert expect(await api.get(f"{P}/stories/{drop}"), 200)["status"] == "removed"
    assert ids(expect(await api.get(f"{P}/stories"), 200)) == [keep]
    assert ids(expect(await api.get(f"{P}/stories", params={"status": "proposed"}), 200)) == [later]
    decision = await api.get(f"{P}/approvals/{by_story[drop]}")
    body = expect(decision, 200)
    assert (body["status"], body["reason"], body["decided_by"]) == (
        "rejected",
        "out of scope",
        "paula",
    )
    assert decision.headers["ETag"] == f'"{body["version"]}"'
    still = expect(await api.get(f"{P}/approvals"), 200)
    assert [a["subject_id"] for a in still["items"]] == [later]
    every = expect(await api.get(f"{P}/approvals", params={"status": "all"}), 200)
    assert [a["status"] for a in every["items"]] == ["approved", "rejected", "pending"]


async def test_reject_without_a_body_records_no_reason(api: ApiClient) -> None:
    await register(api, PID)
    (story,) = (await create_epic(api, "only"))["proposed_story_ids"]
    approval = expect(await api.get(f"{P}/approvals"), 200)["items"][0]["id"]
    expect(await api.post(f"{P}/approvals/{approval}/reject"), 200)
    assert expect(await api.get(f"{P}/stories/{story}"), 200)["status"] == "removed"
    assert expect(await api.get(f"{P}/approvals/{approval}"), 200)["reason"] is None


# --- timeline -------------------------------------------------------------------------------


async def test_timeline_in_order_with_an_after_cursor(api: ApiClient) -> None:
    await register(api, PID)
    await add_story(api, "one")
    await create_epic(api, "proposed")
    await add_story(api, "two")
    timeline = expect(await api.get(f"{P}/timeline", headers=api.as_role("viewer")), 200)
    events = timeline["events"]
    assert [e["command"] for e in events] == [
        "project register",
        "project start",
        "backlog add_story",
        "epic",
        "backlog add_story",
    ]
    assert [e["version"] for e in events] == [1, 2, 3, 4, 5]
    assert timeline["next_cursor"] is None
    assert all(e["actor"] == "alice" for e in events)
    epic = events[3]
    assert (epic["from_state"], epic["to_state"]) == ("IDLE", "BACKLOG_READY")
    assert epic["payload"]["args"]["stories"] == [{"title": "proposed"}]
    assert (events[4]["from_state"], events[4]["to_state"]) == ("BACKLOG_READY", "BACKLOG_READY")

    first = expect(await api.get(f"{P}/timeline", params={"limit": 2}), 200)
    assert [e["id"] for e in first["events"]] == [e["id"] for e in events[:2]]
    assert first["next_cursor"] == events[1]["id"]
    rest = expect(await api.get(f"{P}/timeline", params={"after": first["next_cursor"]}), 200)
    assert [e["id"] for e in rest["events"]] == [e["id"] for e in events[2:]]
    tail = expect(await api.get(f"{P}/timeline", params={"after": events[-1]["id"]}), 200)
    assert tail == {"events": [], "next_cursor": None}


async def test_every_timeline_event_names_its_states(api: ApiClient) -> None:
    await register(api, PID)
    expect(await api.post(f"{P}/stop"), 200)
    events = expect(await api.get(f"{P}/timeline"), 200)["events"]
    assert [e["command"] for e in events] == ["project register", "project start", "project stop"]
    assert [(e["from_state"], e["to_state"]) for e in events[1:]] == [("IDLE", "IDLE")] * 2
    assert events[0]["to_state"] == "IDLE"


# --- global views and the command table -----------------------------------------------------


async def test_global_status_and_resources(api: ApiClient) -> None:
    await register(api, "alpha")
    await register(api, "beta", start=False)
    viewer = api.as_role("viewer")
    status = expect(await api.get(f"{API}/status", headers=viewer), 200)
    assert status["command"] == "global status"
    lines = {p["id"]: p for p in status["result"]["projects"]}
    assert set(lines) == {"alpha", "beta"}
    assert (lines["alpha"]["status"], lines["alpha"]["state"]) == ("active", "IDLE")
    assert lines["beta"]["status"] == "stopped"
    paged = expect(await api.get(f"{API}/status", params={"limit": 1}, headers=viewer), 200)
    assert len(paged["result"]["projects"]) == 1
    assert paged["result"]["next_cursor"] is not None
    resources = expect(await api.get(f"{API}/resources", headers=viewer), 200)["result"]
    assert resources["active_projects"] == ["alpha"]
    assert resources["active_count"] == 1
    assert resources["max_concurrent_projects"] == 1_000
    assert resources["queued_jobs"] == 0


async def test_command_table_lists_every_command_with_its_schema(api: ApiClient) -> None:
    body = expect(await api.get(f"{API}/commands", headers=api.as_role("viewer")), 200)
    listed = {c["name"]: c for c in body["commands"]}
    assert set(listed) == set(COMMANDS)
    for name, spec in COMMANDS.items():
        info = listed[name]
        assert info["args_schema"] == spec.args.model_json_schema(), name
        assert info["role"] == spec.role.name.lower()
        assert info["scope"] == spec.scope
        assert info["mutating"] is spec.mutating
        assert info["allowed_from"] == sorted(s.value for s in spec.allowed_from)
    assert listed["backlog add_story"]["args_schema"]["required"] == ["title"]


async def test_openapi_document_renders(api: ApiClient) -> None:
    schema = expect(await api.get("/openapi.json"), 200)
    assert f"{API}/projects/{{project_id}}/commands" in schema["paths"]


# --- the generic command endpoints, every command once ---------------------------------------


class Walk:
    """Runs commands through the generic endpoints and remembers which ran."""

    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.ran: set[str] = set()

    async def project(
        self, name: str, args: dict[str, Any] | None = None, role: str = "admin"
    ) -> dict[str, Any]:
        response = await command(self.api, PID, name, args, headers=self.api.as_role(role))
        body = expect(response, 201 if response.status_code == 201 else 200)
        assert body["command"] == name
        assert response.headers["ETag"] == f'"{body["project_version"]}"'
        self.ran.add(name)
        return body

    async def state(self) -> str:
        result = (await self.project("state", role="viewer"))["result"]
        state: str = result["state"]
        return state

    async def global_(self, name: str, args: dict[str, Any] | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"command": name} | ({"args": args} if args else {})
        body = expect(await self.api.post(f"{API}/commands", json=payload), 200)
        assert body["command"] == name
        self.ran.add(name)
        return body


async def walk_tdd(walk: Walk, story_id: str) -> None:
    """Every /tdd command once, on a cycle for `story_id`; ends with the sprint running and the
    cycle aborted (the story waits in the sprint)."""
    started = await walk.project("tdd start", {"story_id": story_id})
    assert started["result"]["phase"] == "DESIGN"
    await walk.project("tdd pause", {"story_id": story_id})
    await walk.project("tdd resume", {"story_id": story_id})
    await walk.project("tdd run_tests", {"story_id": story_id})
    why = {"story_id": story_id, "justification": "design agreed in the planning meeting"}
    assert (await walk.project("tdd skip_phase", why, role="approver"))["result"]["phase"] == (
        "TEST_RED"
    )
    for read in ("tdd status", "tdd logs", "tdd overview", "tdd metrics"):
        await walk.project(read, role="viewer")
    await walk.project("tdd abort", {"story_id": story_id}, role="approver")
    assert (await walk.project("tdd halt_all", role="approver"))["to_state"] == "SPRINT_PAUSED"
    assert (await walk.project("sprint resume"))["to_state"] == "SPRINT_ACTIVE"
    for name in [n for n in COMMANDS if n.startswith("tdd ") and not COMMANDS[n].allowed_from]:
        refused = expect(
            await command(walk.api, PID, name, headers=walk.api.as_role("member")), 409
        )
        assert "/tdd skip_phase" in refused["message"], refused
        walk.ran.add(name)


async def test_every_command_runs_through_the_generic_endpoints(
    api: ApiClient, redis: Redis
) -> None:
    walk, store = Walk(api), Store(redis)
    registered = expect(
        await api.post(
            f"{API}/commands",
            json={"command": "project register", "args": {"repo_url": "/srv/git/calc.git"}},
        ),
        201,
    )
    walk.ran.add("project register")
    assert registered["result"]["project_id"] == PID
    await walk.global_("project start", {"project": PID})
    bound = await walk.global_("project bind_channel", {"project": PID, "channel_id": "42"})
    assert bound["result"]["discord_channel_id"] == "42"
    assert (await walk.global_("project list"))["result"]["total"] == 1
    await walk.global_("global status")
    await walk.global_("resource status")

    epic = await walk.project("epic", {"description": "calc", "stories": [{"title": "a"}] * 3})
    first, second, third = epic["result"]["proposed_story_ids"]
    assert epic["to_state"] == "BACKLOG_READY"
    await walk.project("approve", {"ids": [first, second]}, role="approver")
    await walk.project("reject", {"ids": [third], "reason": "dup"}, role="approver")
    extra = (await walk.project("backlog add_story", {"title": "x"}))["result"]["story_id"]
    await walk.project("backlog prioritize", {"story_id": second, "priority": "top"})
    await walk.project("backlog remove", {"story_id": extra})
    view = await walk.project("backlog view", role="viewer")
    assert [s["id"] for s in view["result"]["stories"]] == [second, first]

    for read in ("context status", "context memory"):
        await walk.project(read, role="viewer")
    assert (await walk.project("context optimize", role="member"))["result"]["dropped"] == 0
    await walk.project("context clear_cache", role="member")
    planned = await walk.project("sprint plan", {"story_ids": [first, second], "goal": "g"})
    assert planned["to_state"] == "SPRINT_PLANNED"
    await walk.project("sprint start")
    assert (await walk.project("sprint status", role="viewer"))["result"]["counts"] == {"sprint": 2}
    assert (await walk.project("sprint pause"))["to_state"] == "SPRINT_PAUSED"
    assert (await walk.project("sprint resume"))["to_state"] == "SPRINT_ACTIVE"
    await walk_tdd(walk, first)

    await block_story(store, PID, first, "red tests")
    assert await walk.state() == "BLOCKED"
    fix = await walk.project("suggest_fix", {"description": "mock it"}, role="approver")
    assert fix["to_state"] == "SPRINT_ACTIVE"
    await block_story(store, PID, second, "still red")
    skipped = await walk.project("skip_task", role="approver")
    assert skipped["to_state"] == "SPRINT_ACTIVE"
    await complete_story(store, PID, first)
    assert await walk.state() == "SPRINT_REVIEW"
    changes = await walk.project("request_changes", {"description": "fix it"}, role="approver")
    assert changes["to_state"] == "BACKLOG_READY"

    replanned = await walk.project("sprint plan", {"capacity": 1})
    assert replanned["result"]["story_ids"] == [changes["result"]["change_story_id"]]
    await walk.project("sprint start")
    await complete_story(store, PID, changes["result"]["change_story_id"])
    done = await walk.project("feedback", {"description": "good sprint"}, role="approver")
    assert (done["from_state"], done["to_state"]) == ("SPRINT_REVIEW", "IDLE")
    stopped = await walk.global_("project stop", {"project": PID})
    assert stopped["result"]["status"] == "stopped"
    assert walk.ran == set(COMMANDS)


async def test_request_ids_are_echoed_and_bounded(api: ApiClient) -> None:
    given = await api.get(f"{API}/projects/nope", headers={"X-Request-ID": "trace-42"})
    assert given.headers["X-Request-ID"] == "trace-42"
    assert expect(given, 404)["request_id"] == "trace-42"
    too_long = await api.get(f"{API}/projects/nope", headers={"X-Request-ID": "x" * 129})
    assert too_long.headers["X-Request-ID"] == expect(too_long, 404)["trace_id"]  # replaced
    made = await api.get("/livez")
    assert len(made.headers["X-Request-ID"]) == 32
    assert made.headers["X-Request-ID"] != too_long.headers["X-Request-ID"]
    parent = {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}
    same_trace = [(await api.get("/livez", headers=parent)).headers["X-Request-ID"] for _ in "ab"]
    assert len(set(same_trace)) == 2  # a continued trace's requests still get ids of their own


# --- health ---------------------------------------------------------------------------------


async def test_livez_and_readyz(api: ApiClient) -> None:
    assert expect(await api.send_without_auth("GET", "/livez"), 200) == {"status": "ok"}
    assert expect(await api.send_without_auth("GET", "/readyz"), 200) == {"status": "ready"}


async def test_readyz_answers_503_when_redis_is_gone(
    api_settings: Settings, tmp_path: Path
) -> None:
    server = EmbeddedRedis(tmp_path / "redis", appendonly=False)
    server.start()
    try:
        settings = api_settings.model_copy(update={"redis_url": server.url})
        app = create_app(settings)
        async with (
            LifespanManager(app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(manager.app, raise_app_exceptions=False),
                base_url="http://api",
            ) as client,
        ):
            assert expect(await client.get("/readyz"), 200) == {"status": "ready"}
            await asyncio.to_thread(server.stop)
            gone = await client.get("/readyz")
            assert expect(gone, 503)["status"] == "unavailable"
            assert gone.json()["reason"]
            assert expect(await client.get("/livez"), 200) == {"status": "ok"}
    finally:
        server.stop()
