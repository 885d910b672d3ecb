"""Bad input, table-driven: each case answers the right status, `type` and a message naming what
was wrong and what is allowed, and leaves every stored key exactly as it was. Never a 5xx.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from dataclasses import field as default
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt
import pytest

from shared.domain.models import ScrumState
from shared.domain.scrum import allowed_commands
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are found by name
    API,
    ApiClient,
    Tokens,
    api_app_fixture,
    api_fixture,
    api_settings_fixture,
    command,
    dump_db,
    expect,
    register,
    server_errors_fixture,
    tokens_fixture,
)

if TYPE_CHECKING:
    import httpx
    from redis.asyncio import Redis

pytestmark = pytest.mark.integration

World = dict[str, str]
Setup = Callable[[ApiClient, World], Awaitable[None]]
LIMIT = 1_048_576  # api.max_body_bytes
P = f"{API}/projects/{{pid}}"
READY_ALLOWED = list(allowed_commands(ScrumState.BACKLOG_READY))
MISSING_STORY = "story-deadbeef"


async def build_world(api: ApiClient) -> World:
    """A started project in BACKLOG_READY: an epic, one approved and one pending proposal, and a
    plain backlog story (version 1)."""
    pid = "proj"
    await register(api, pid)
    epic = expect(
        await command(
            api, pid, "epic", {"description": "Calc", "stories": [{"title": "a"}, {"title": "b"}]}
        ),
        201,
    )["result"]
    approved, proposed = epic["proposed_story_ids"]
    expect(await command(api, pid, "approve", {"ids": [approved]}), 200)
    pending = expect(await api.get(f"{API}/projects/{pid}/approvals"), 200)["items"]
    story = expect(await command(api, pid, "backlog add_story", {"title": "plain"}), 201)
    version = expect(await api.get(f"{API}/projects/{pid}"), 200)["version"]
    return {
        "pid": pid,
        "epic": epic["epic_id"],
        "approved": approved,
        "proposed": proposed,
        "approval": pending[0]["id"],
        "story": story["result"]["story_id"],
        "version": str(version),
    }


def cursor_for(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def auth_for(kind: str, tokens: Tokens) -> dict[str, str] | None:
    """Headers for one kind of caller; None sends no Authorization header at all."""
    secret = tokens.secret
    now = datetime.now(UTC)
    crafted = {
        "garbage": "not-a-jwt",
        "expired": tokens("admin", ttl=timedelta(seconds=-5)),
        "foreign": tokens("admin", secret="another-secret-" + "x" * 40),
        "bad-role": jwt.encode(
            {"sub": "eve", "role": "root", "iss": "awf", "exp": now + timedelta(hours=1)},
            secret,
            algorithm="HS256",
        ),
        "no-exp": jwt.encode({"sub": "eve", "role": "admin", "iss": "awf"}, secret, "HS256"),
        "alg-none": jwt.encode(
            {"sub": "eve", "role": "admin", "iss": "awf", "exp": now + timedelta(hours=1)},
            None,
            algorithm="none",
        ),
    }
    if kind == "none":
        return None
    if kind == "basic":
        return {"Authorization": "Basic YWRtaW46YWRtaW4="}
    if kind in crafted:
        return {"Authorization": f"Bearer {crafted[kind]}"}
    return tokens.auth(kind)


async def chunks(total: int, head: bytes = b'{"title": "') -> AsyncIterator[bytes]:
    """A body streamed without Content-Length (chunked), `total` bytes and more."""
    yield head
    sent = len(head)
    while sent <= total:
        yield b"x" * 65_536
        sent += 65_536
    yield b'"}'


@dataclass(frozen=True)
class Bad:
    name: str
    method: str
    path: str
    status: int
    type: str
    mentions: tuple[str, ...] = ()
    field: str | None = None
    json: Any = None
    content: bytes | Callable[[], AsyncIterator[bytes]] | None = None
    params: dict[str, str] = default(default_factory=dict)
    headers: dict[str, str] = default(default_factory=dict)
    auth: str = "admin"
    details: dict[str, Any] = default(default_factory=dict)
    setup: Setup | None = None
    bug: str | None = None

    def param(self) -> Any:
        marks = [pytest.mark.xfail(reason=f"bug: {self.bug}", strict=True)] if self.bug else []
        return pytest.param(self, id=self.name, marks=marks)


async def use_idempotency_key(api: ApiClient, world: World) -> None:
    expect(
        await api.post(
            f"{API}/projects/{world['pid']}/stories",
            json={"title": "first"},
            headers={"Idempotency-Key": "reused-key"},
        ),
        201,
    )


async def remove_story(api: ApiClient, world: World) -> None:
    expect(await api.delete(f"{API}/projects/{world['pid']}/stories/{world['story']}"), 200)


def cmd(name: str, args: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"command": name, **({"args": args} if args is not None else {}), **extra}


def transition(name: str, mention: str, args: dict[str, Any] | None = None) -> Bad:
    return Bad(
        f"409-{name.replace(' ', '-')}",
        "POST",
        f"{P}/commands",
        409,
        "invalid_transition",
        (f"/{name} is not allowed in state BACKLOG_READY", mention),
        json=cmd(name, args),
        details={"state": "BACKLOG_READY", "allowed_commands": READY_ALLOWED},
    )


def not_found(name: str, method: str, path: str, *mentions: str, **kw: Any) -> Bad:
    return Bad(f"404-{name}", method, path, 404, "not_found", mentions, **kw)


def unauthorized(name: str, auth: str, mention: str, method: str = "GET") -> Bad:
    path = f"{API}/projects" if method == "GET" else f"{P}/stories"
    body = {"title": "sneaky"} if method == "POST" else None
    return Bad(f"401-{name}", method, path, 401, "unauthorized", (mention,), auth=auth, json=body)


def forbidden(name: str, auth: str, method: str, path: str, needed: str, **kw: Any) -> Bad:
    mentions = (f"needs the {needed} role", f"has {auth}")
    return Bad(
        f"403-{name}",
        method,
        path,
        403,
        "forbidden",
        mentions,
        auth=auth,
        details={"required_role": needed},
        **kw,
    )


def invalid(name: str, method: str, path: str, where: str, *mentions: str, **kw: Any) -> Bad:
    return Bad(
        f"422-{name}", method, path, 422, "validation_error", (where, *mentions), where, **kw
    )


def add_story_args(**args: Any) -> dict[str, Any]:
    return cmd("backlog add_story", {"title": "t", **args})


CASES = [
    # malformed JSON and bodies of the wrong shape
    Bad(
        "400-malformed-json-command",
        "POST",
        f"{P}/commands",
        400,
        "malformed_json",
        ("not valid JSON",),
        content=b'{"command": "epic",',
        headers={"Content-Type": "application/json"},
    ),
    Bad(
        "400-malformed-json-story",
        "POST",
        f"{P}/stories",
        400,
        "malformed_json",
        ("not valid JSON", "double quotes"),
        content=b"{title: 'x'}",
        headers={"Content-Type": "application/json; charset=utf-8"},
    ),
    Bad(
        "400-body-not-utf8",
        "POST",
        f"{P}/stories",
        400,
        "malformed_json",
        ("not valid JSON", "not UTF-8 text (byte 11)"),
        content=b'{"title": "\xff"}',
        headers={"Content-Type": "application/json"},
    ),
    Bad(
        "400-body-nested-too-deeply",
        "POST",
        f"{P}/commands",
        400,
        "malformed_json",
        ("not valid JSON", "nested too deeply"),
        content=b"[" * 100_000,
        headers={"Content-Type": "application/json"},
    ),
    Bad(
        "415-json-sent-as-text",
        "POST",
        f"{P}/stories",
        415,
        "unsupported_media_type",
        ("application/json", "text/plain"),
        content=b'{"title": "t"}',
        headers={"Content-Type": "text/plain"},
    ),
    Bad(
        "415-json-sent-as-form",
        "POST",
        f"{P}/commands",
        415,
        "unsupported_media_type",
        ("application/json",),
        content=b'{"command": "state"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},  # what `curl -d` sends
    ),
    invalid("body-is-a-list", "POST", f"{P}/commands", "body", "valid dictionary", json=[]),
    invalid("body-missing", "POST", f"{P}/stories", "body", "Field required"),
    # wrong types and out-of-range values
    invalid(
        "priority-too-high",
        "POST",
        f"{P}/commands",
        "args.priority",
        "less than or equal to 5",
        json=add_story_args(priority=9),
    ),
    invalid(
        "priority-too-low",
        "POST",
        f"{P}/commands",
        "args.priority",
        "greater than or equal to 1",
        json=add_story_args(priority=0),
    ),
    invalid(
        "priority-not-a-number",
        "POST",
        f"{P}/commands",
        "args.priority",
        "valid integer",
        json=add_story_args(priority="high"),
    ),
    invalid(
        "title-not-a-string",
        "POST",
        f"{P}/commands",
        "args.title",
        "valid string",
        json=cmd("backlog add_story", {"title": 5}),
    ),
    invalid(
        "title-empty",
        "POST",
        f"{P}/commands",
        "args.title",
        "at least 1 character",
        json=cmd("backlog add_story", {"title": "   "}),
    ),
    invalid(
        "title-too-long",
        "POST",
        f"{P}/commands",
        "args.title",
        "at most 200 characters",
        json=cmd("backlog add_story", {"title": "t" * 201}),
    ),
    invalid(
        "points-negative",
        "POST",
        f"{P}/stories",
        "points",
        "greater than or equal to 0",
        json={"title": "t", "points": -1},
    ),
    invalid(
        "title-missing",
        "POST",
        f"{P}/commands",
        "args.title",
        "Field required",
        json=cmd("backlog add_story", {}),
    ),
    invalid(
        "args-not-an-object",
        "POST",
        f"{P}/commands",
        "args",
        "valid dictionary",
        json=cmd("epic", ["x"]),  # type: ignore[arg-type]
    ),
    invalid(
        "stories-not-a-list",
        "POST",
        f"{P}/epics",
        "stories",
        "valid list",
        json={"description": "d", "stories": "a"},
    ),
    invalid(
        "priority-name-unknown",
        "PUT",
        f"{P}/stories/{{story}}/priority",
        "priority",
        "'top', 'high', 'medium' or 'low'",
        json={"priority": "urgent"},
    ),
    invalid(
        "capacity-zero",
        "POST",
        f"{P}/sprints",
        "capacity",
        "greater than or equal to 1",
        json={"capacity": 0},
    ),
    invalid(
        "story-ids-malformed",
        "POST",
        f"{P}/sprints",
        "story_ids.0",
        "should match pattern",
        json={"story_ids": ["bogus"]},
    ),
    invalid(
        "repo-url-missing",
        "POST",
        f"{API}/projects",
        "repo_url",
        "Field required",
        json={"name": "x"},
    ),
    invalid(
        "project-id-in-body-malformed",
        "POST",
        f"{API}/projects",
        "id",
        "should match pattern",
        json={"repo_url": "/srv/x.git", "id": "Not An Id"},
    ),
    invalid(
        "limit-zero",
        "GET",
        f"{P}/stories",
        "query.limit",
        "greater than or equal to 1",
        params={"limit": "0"},
    ),
    invalid(
        "limit-too-big",
        "GET",
        f"{API}/projects",
        "query.limit",
        "less than or equal to 500",
        params={"limit": "501"},
    ),
    invalid(
        "limit-not-a-number",
        "GET",
        f"{P}/epics",
        "query.limit",
        "valid integer",
        params={"limit": "ten"},
    ),
    invalid(
        "story-status-unknown",
        "GET",
        f"{P}/stories",
        "query.status",
        "'backlog', 'proposed' or 'all'",
        params={"status": "done"},
    ),
    invalid(
        "approval-status-unknown",
        "GET",
        f"{P}/approvals",
        "query.status",
        "'pending' or 'all'",
        params={"status": "open"},
    ),
    invalid(
        "timeline-after-malformed",
        "GET",
        f"{P}/timeline",
        "query.after",
        "should match pattern",
        params={"after": "yesterday"},
    ),
    # unknown commands
    invalid(
        "command-unknown",
        "POST",
        f"{P}/commands",
        "command",
        "'nope'",
        "'backlog add_story'",
        json=cmd("nope"),
    ),
    invalid(
        "command-global-on-project",
        "POST",
        f"{P}/commands",
        "command",
        "'project register'",
        "'sprint plan'",
        json=cmd("project register", {"repo_url": "/x.git"}),
    ),
    invalid(
        "command-project-on-global",
        "POST",
        f"{API}/commands",
        "command",
        "'epic'",
        "'project register'",
        json=cmd("epic", {"description": "d"}),
    ),
    invalid(
        "command-missing",
        "POST",
        f"{P}/commands",
        "command",
        "discriminator 'command'",
        json={"args": {}},
    ),
    # unknown fields (extra=forbid)
    invalid(
        "unknown-arg",
        "POST",
        f"{P}/commands",
        "args.bogus",
        "Extra inputs are not permitted",
        json=cmd("epic", {"description": "d", "bogus": 1}),
    ),
    Bad(
        "422-unknown-envelope-field",
        "POST",
        f"{P}/commands",
        422,
        "validation_error",
        ("argz", "Extra inputs are not permitted"),
        "argz",
        json={"command": "sprint plan", "argz": {"story_ids": ["{approved}"]}},
    ),
    Bad(
        "422-args-missing",
        "POST",
        f"{P}/commands",
        422,
        "validation_error",
        ("args", "Field required"),
        "args",
        json={"command": "backlog add_story"},
    ),
    invalid(
        "unknown-story-field",
        "POST",
        f"{P}/stories",
        "bogus",
        "Extra inputs are not permitted",
        json={"title": "t", "bogus": True},
    ),
    invalid(
        "unknown-priority-field",
        "PUT",
        f"{P}/stories/{{story}}/priority",
        "bogus",
        "Extra inputs",
        json={"priority": "low", "bogus": 1},
    ),
    invalid(
        "unknown-reject-field",
        "POST",
        f"{P}/approvals/{{approval}}/reject",
        "because",
        "Extra inputs",
        json={"because": "no"},
    ),
    invalid(
        "unknown-register-field",
        "POST",
        f"{API}/projects",
        "owner",
        "Extra inputs",
        json={"repo_url": "/x.git", "owner": "me"},
    ),
    # bodies over api.max_body_bytes
    Bad(
        "413-by-content-length",
        "POST",
        f"{P}/commands",
        413,
        "payload_too_large",
        (f"limit is {LIMIT} bytes", "api.max_body_bytes"),
        content=b"x" * (LIMIT + 1),
        headers={"Content-Type": "application/json"},
        details={"limit": LIMIT},
    ),
    Bad(
        "413-chunked-command",
        "POST",
        f"{P}/commands",
        413,
        "payload_too_large",
        (f"limit is {LIMIT} bytes",),
        content=lambda: chunks(LIMIT, b'{"command": "epic", "args": {"description": "'),
        headers={"Content-Type": "application/json"},
    ),
    Bad(
        "413-chunked-story",
        "POST",
        f"{P}/stories",
        413,
        "payload_too_large",
        (f"limit is {LIMIT} bytes",),
        content=lambda: chunks(2 * LIMIT),
        headers={"Content-Type": "application/json"},
    ),
    # unknown ids
    not_found("project", "GET", f"{API}/projects/nope", "Project nope not found", "/project list"),
    not_found(
        "project-command", "POST", f"{API}/projects/nope/commands", "nope", json=add_story_args()
    ),
    not_found("project-stories", "GET", f"{API}/projects/nope/stories", "Project nope"),
    not_found("project-timeline", "GET", f"{API}/projects/nope/timeline", "Project nope"),
    not_found("project-start", "POST", f"{API}/projects/nope/start", "Project nope"),
    not_found(
        "story",
        "GET",
        f"{P}/stories/{MISSING_STORY}",
        f"Story {MISSING_STORY} in project proj not found",
    ),
    not_found("story-delete", "DELETE", f"{P}/stories/{MISSING_STORY}", MISSING_STORY),
    not_found(
        "story-priority",
        "PUT",
        f"{P}/stories/{MISSING_STORY}/priority",
        MISSING_STORY,
        json={"priority": "low"},
    ),
    Bad(
        "404-story-delete-if-match",
        "DELETE",
        f"{P}/stories/{MISSING_STORY}",
        404,
        "not_found",
        (MISSING_STORY,),
        headers={"If-Match": '"1"'},
    ),
    not_found("epic", "GET", f"{P}/epics/epic-deadbeef", "Epic epic-deadbeef in project proj"),
    not_found("sprint", "GET", f"{P}/sprints/sprint-deadbeef", "Sprint sprint-deadbeef"),
    not_found("current-sprint", "GET", f"{P}/sprints/current", "no current sprint", "plan"),
    not_found("approval", "GET", f"{P}/approvals/approval-deadbeef", "approval-deadbeef"),
    not_found(
        "approve-unknown",
        "POST",
        f"{P}/approvals/approval-deadbeef/approve",
        "approval-deadbeef is not waiting for approval",
    ),
    Bad(
        "409-approve-decided",
        "POST",
        f"{P}/commands",
        409,
        "already_decided",
        ("is not waiting for approval: alice already decided it (approved)", "Nothing changed"),
        json=cmd("approve", {"ids": ["{approved}"]}),
    ),
    not_found(
        "story-epic-unknown",
        "POST",
        f"{P}/stories",
        "Epic epic-deadbeef not found",
        json={"title": "t", "epic_id": "epic-deadbeef"},
    ),
    not_found(
        "sprint-stories-unknown",
        "POST",
        f"{P}/sprints",
        f"Stories not found: {MISSING_STORY}",
        json={"story_ids": [MISSING_STORY]},
    ),
    not_found("route", "GET", f"{API}/nothing-here", "No such route"),
    # illegal transitions
    transition("sprint start", "/sprint plan"),
    transition("sprint pause", "It is allowed in: SPRINT_ACTIVE"),
    transition("sprint resume", "It is allowed in: SPRINT_PAUSED"),
    transition("sprint status", "SPRINT_ACTIVE"),
    transition("feedback", "SPRINT_REVIEW", {"description": "d"}),
    transition("request_changes", "SPRINT_REVIEW", {"description": "d"}),
    transition("suggest_fix", "BLOCKED", {"description": "d"}),
    transition("skip_task", "BLOCKED"),
    Bad(
        "409-project-id-taken",
        "POST",
        f"{API}/projects",
        409,
        "already_exists",
        ("'proj' is taken", "another"),
        json={"repo_url": "/srv/other.git", "id": "proj"},
    ),
    Bad(
        "409-prioritize-removed-story",
        "PUT",
        f"{P}/stories/{{story}}/priority",
        409,
        "invalid_transition",
        ("is removed", "only backlog or proposed stories"),
        json={"priority": "top"},
        setup=remove_story,
        details={"story_status": "removed", "allowed_commands": ["backlog view", "tdd status"]},
    ),
    Bad(
        "409-plan-a-proposed-story",
        "POST",
        f"{P}/sprints",
        409,
        "invalid_transition",
        ("Only approved backlog stories can be planned", "{proposed} (proposed)"),
        json={"story_ids": ["{proposed}"]},
    ),
    # authentication
    unauthorized("missing-token", "none", "Missing bearer token: send `Authorization: Bearer"),
    unauthorized("missing-token-on-write", "none", "Missing bearer token", "POST"),
    unauthorized("basic-scheme", "basic", "Authorization: Bearer"),
    unauthorized("garbage-token", "garbage", "token is invalid"),
    unauthorized("expired-token", "expired", "token has expired", "POST"),
    unauthorized("foreign-secret", "foreign", "bad signature", "POST"),
    unauthorized("unknown-role", "bad-role", "token is invalid"),
    unauthorized("no-expiry", "no-exp", "token is invalid"),
    unauthorized("alg-none", "alg-none", "token is invalid", "POST"),
    # the single-document reads check the token inline rather than through a dependency
    *(
        Bad(f"401-inline-{name}-{auth}", "GET", path, 401, "unauthorized", (said,), auth=auth)
        for name, path in [
            ("project", P),
            ("story", f"{P}/stories/story-1a2b3c4d"),
            ("epic", f"{P}/epics/epic-1a2b3c4d"),
            ("sprint", f"{P}/sprints/sprint-1a2b3c4d"),
            ("current-sprint", f"{P}/sprints/current"),
            ("approval", f"{P}/approvals/approval-1a2b3c4d"),
        ]
        for auth, said in [("none", "Missing bearer token"), ("garbage", "token is invalid")]
    ),
    Bad(
        "401-before-validation",
        "POST",
        f"{P}/stories",
        401,
        "unauthorized",
        ("Missing bearer token",),
        json={"title": 5, "bogus": True},
        auth="none",
    ),
    # roles
    forbidden("viewer-adds-story", "viewer", "POST", f"{P}/stories", "member", json={"title": "t"}),
    forbidden(
        "viewer-adds-story-by-command",
        "viewer",
        "POST",
        f"{P}/commands",
        "member",
        json=add_story_args(),
    ),
    forbidden("viewer-plans", "viewer", "POST", f"{P}/sprints", "member", json={}),
    forbidden(
        "member-approves", "member", "POST", f"{P}/approvals/{{approval}}/approve", "approver"
    ),
    forbidden(
        "member-approves-by-command",
        "member",
        "POST",
        f"{P}/commands",
        "approver",
        json=cmd("approve"),
    ),
    forbidden(
        "member-rejects",
        "member",
        "POST",
        f"{P}/approvals/{{approval}}/reject",
        "approver",
        json={"reason": "r"},
    ),
    forbidden("member-starts-project", "member", "POST", f"{P}/start", "admin"),
    forbidden(
        "approver-registers",
        "approver",
        "POST",
        f"{API}/projects",
        "admin",
        json={"repo_url": "/srv/new.git"},
    ),
    forbidden(
        "approver-registers-by-command",
        "approver",
        "POST",
        f"{API}/commands",
        "admin",
        json=cmd("project register", {"repo_url": "/srv/new.git"}),
    ),
    # preconditions and idempotency keys
    Bad(
        "412-stale-project-etag",
        "POST",
        f"{P}/commands",
        412,
        "precondition_failed",
        ("version is {version}, not 1", "Reload"),
        json=add_story_args(),
        headers={"If-Match": '"1"'},
        details={"current_version": "{version}"},
    ),
    Bad(
        "412-stale-etag-on-epic",
        "POST",
        f"{P}/epics",
        412,
        "precondition_failed",
        ("not 2",),
        json={"description": "d"},
        headers={"If-Match": 'W/"2"'},
    ),
    Bad(
        "412-unreadable-etag",
        "POST",
        f"{P}/stories",
        412,
        "precondition_failed",
        ("If-Match names no version of project {pid}", '"{version}"'),
        json={"title": "t"},
        headers={"If-Match": "null"},
        details={"current_version": "{version}"},
    ),
    Bad(
        "412-stale-story-etag",
        "PUT",
        f"{P}/stories/{{story}}/priority",
        412,
        "precondition_failed",
        ("version is 1, not 7", "Reload"),
        json={"priority": "top"},
        headers={"If-Match": '"7"'},
        details={"current_version": 1},
    ),
    Bad(
        "412-stale-story-etag-on-delete",
        "DELETE",
        f"{P}/stories/{{story}}",
        412,
        "precondition_failed",
        ("version is 1, not 0",),
        headers={"If-Match": '"0"'},
        details={"current_version": 1},
    ),
    Bad(
        "422-idempotency-key-reused",
        "POST",
        f"{P}/stories",
        422,
        "idempotency_key_reused",
        ("already used for a different request", "new key"),
        json={"title": "second"},
        headers={"Idempotency-Key": "reused-key"},
        setup=use_idempotency_key,
    ),
    Bad(
        "422-idempotency-key-reused-by-command",
        "POST",
        f"{P}/commands",
        422,
        "idempotency_key_reused",
        ("already used for a different request",),
        json=add_story_args(),
        headers={"Idempotency-Key": "reused-key"},
        setup=use_idempotency_key,
    ),
    invalid(
        "idempotency-key-too-long",
        "POST",
        f"{P}/stories",
        "header.Idempotency-Key",
        "at most 255 characters",
        json={"title": "t"},
        headers={"Idempotency-Key": "k" * 256},
    ),
    # cursors
    Bad(
        "400-cursor-garbage",
        "GET",
        f"{P}/stories",
        400,
        "bad_request",
        ("cursor is not valid", "next_cursor"),
        "cursor",
        params={"cursor": "!!!"},
    ),
    Bad(
        "400-cursor-negative",
        "GET",
        f"{API}/projects",
        400,
        "bad_request",
        ("cursor is not valid",),
        "cursor",
        params={"cursor": cursor_for("o:-5")},
    ),
    Bad(
        "400-cursor-not-ours",
        "GET",
        f"{P}/epics",
        400,
        "bad_request",
        ("cursor",),
        "cursor",
        params={"cursor": cursor_for("offset=3")},
    ),
    Bad(
        "400-cursor-in-command",
        "POST",
        f"{P}/commands",
        400,
        "bad_request",
        ("cursor is not valid",),
        "cursor",
        json=cmd("backlog view", {"cursor": "%%%"}),
    ),
    invalid(
        "cursor-too-long",
        "GET",
        f"{P}/approvals",
        "query.cursor",
        "at most 200 characters",
        params={"cursor": "c" * 201},
    ),
    Bad(
        "400-cursor-offset-out-of-range",
        "GET",
        f"{P}/stories",
        400,
        "bad_request",
        ("cursor is not valid",),
        "cursor",
        params={"cursor": cursor_for("o:" + "9" * 30)},
    ),
    Bad(
        "400-project-cursor-offset-out-of-range",
        "GET",
        f"{API}/projects",
        400,
        "bad_request",
        ("cursor is not valid",),
        "cursor",
        params={"cursor": cursor_for("o:9223372036854775807")},
    ),
    Bad(
        "400-command-cursor-offset-out-of-range",
        "POST",
        f"{P}/commands",
        400,
        "bad_request",
        ("cursor is not valid",),
        "cursor",
        json=cmd("backlog view", {"cursor": cursor_for("o:" + "9" * 25)}),
    ),
    invalid(
        "timeline-after-out-of-range",
        "GET",
        f"{P}/timeline",
        "query.after",
        "after",
        params={"after": "9" * 30 + "-0"},
    ),
    # malformed ids in paths
    invalid(
        "project-id-malformed",
        "GET",
        f"{API}/projects/Not_An_Id",
        "path.project_id",
        "should match pattern",
    ),
    invalid(
        "project-id-too-long",
        "POST",
        f"{API}/projects/{'p' * 41}/commands",
        "path.project_id",
        "should match pattern",
        json=add_story_args(),
    ),
    # (named by their path parameter: once they were `args.story_id`, `args.ids.0`)
    invalid(
        "story-id-malformed",
        "DELETE",
        f"{P}/stories/story-XYZ",
        "path.story_id",
        "should match pattern",
    ),
    invalid(
        "story-id-malformed-priority",
        "PUT",
        f"{P}/stories/nope/priority",
        "path.story_id",
        "should match pattern",
        json={"priority": "low"},
    ),
    invalid(
        "approval-id-malformed",
        "POST",
        f"{P}/approvals/42/approve",
        "path.approval_id",
        "should match pattern",
    ),
    invalid(
        "epic-id-malformed",
        "GET",
        f"{P}/epics/epic:{{pid}}",
        "path.epic_id",
        "should match pattern",
    ),
    # other refusals
    Bad("405-method", "PATCH", f"{API}/projects", 405, "method_not_allowed", ("Not Allowed",)),
    Bad(
        "400-name-underivable",
        "POST",
        f"{API}/projects",
        400,
        "bad_request",
        ("Cannot derive a project name from repo_url", "pass a name"),
        "name",
        json={"repo_url": "/"},
    ),
]


def fill(value: Any, world: World) -> Any:
    """`value` with `{pid}`-style placeholders filled from the world, in nested JSON too."""
    if isinstance(value, str):
        return value.format(**world)
    if isinstance(value, list | tuple):
        return [fill(v, world) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, world) for k, v in value.items()}
    return value


async def send(api: ApiClient, case: Bad, world: World) -> httpx.Response:
    kwargs: dict[str, Any] = {
        "params": fill(case.params, world),
        "headers": fill(case.headers, world),
    }
    if case.json is not None:
        kwargs["json"] = fill(case.json, world)
    elif case.content is not None:
        kwargs["content"] = case.content if isinstance(case.content, bytes) else case.content()
    auth = auth_for(case.auth, api.tokens)
    url = fill(case.path, world)
    if auth is None:
        return await api.send_without_auth(case.method, url, **kwargs)
    kwargs["headers"] = {**auth, **kwargs["headers"]}
    return await api.request(case.method, url, **kwargs)


def check_body(case: Bad, response: httpx.Response, world: World) -> None:
    body = response.json()
    assert response.status_code == case.status, body
    assert body["type"] == case.type, body
    assert body["request_id"] == response.headers["X-Request-ID"]
    for mention in fill(case.mentions, world):
        assert mention in body["message"], (mention, body["message"])
    if case.field is not None:
        fields = [e["field"] for e in body.get("errors", [])] or [body.get("field")]
        assert case.field in fields, body
    for key, wanted in case.details.items():
        expected = fill(wanted, world)
        assert (str(body[key]) if isinstance(expected, str) else body[key]) == expected, body
    if case.status == 401:
        assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("case", [c.param() for c in CASES])
async def test_bad_input_is_refused_and_changes_nothing(
    api: ApiClient, redis: Redis, case: Bad
) -> None:
    world = await build_world(api)
    if case.setup is not None:
        await case.setup(api, world)
    before = await dump_db(redis)
    response = await send(api, case, world)
    assert response.status_code < 500, (response.text, api.errors.describe())
    check_body(case, response, world)
    assert await dump_db(redis) == before


def test_the_table_covers_every_kind_of_refusal() -> None:
    names = {c.name for c in CASES}
    assert len(names) == len(CASES), "case names must be unique"
    assert {c.status for c in CASES} >= {400, 401, 403, 404, 405, 409, 412, 413, 415, 422}
    assert {c.auth for c in CASES if c.status == 403} == {"viewer", "member", "approver"}


async def test_refusals_do_not_consume_the_idempotency_key(api: ApiClient) -> None:
    """A request refused (409) with a key leaves the key free for the corrected request."""
    world = await build_world(api)
    key = {"Idempotency-Key": "retry-me"}
    refused = await command(api, world["pid"], "sprint start", headers=key)
    assert expect(refused, 409)["type"] == "invalid_transition"
    planned = await command(api, world["pid"], "sprint plan", headers=key)
    assert expect(planned, 201)["to_state"] == "SPRINT_PLANNED"
    assert planned.headers["Idempotent-Replayed"] == "false"
