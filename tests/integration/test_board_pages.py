"""The web board through the real app: login (token and one-time link), every page, decisions
through the exactly-once path, stale pages, roles, CSRF and Origin checks."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from services.api.board.session import csrf_for
from shared.domain.commands import Role
from shared.domain.models import ScrumState
from shared.state import keys
from shared.state.store import Store
from tests.factories import make_project_in_state, proposed_ids, run, sprint_story_ids
from tests.integration.api_fixtures import (  # noqa: F401 - fixtures are found by name
    API,
    ApiClient,
    api_app_fixture,
    api_fixture,
    api_settings_fixture,
    expect,
    server_errors_fixture,
    tokens_fixture,
)

pytestmark = pytest.mark.integration
ORIGIN = {"Origin": "http://api"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def login(api: ApiClient, role: Role | str, subject: str | None = None) -> httpx.Cookies:
    """Log in through the login form; the board's cookie jar (the bearer header is dropped)."""
    response = await api.send_without_auth(
        "POST",
        "/board/login",
        content=f"token={api.tokens(role, subject)}&next=/board",
        headers=ORIGIN | FORM,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/board"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Path=/board" in cookie
    assert "Secure" not in cookie  # plain http here
    return response.cookies


async def page(api: ApiClient, path: str, cookies: httpx.Cookies, status: int = 200) -> str:
    response = await api.send_without_auth("GET", path, cookies=cookies)
    assert response.status_code == status, (path, response.text[:300], api.errors.describe())
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    return response.text


def form_of(html: str, approval_id: str, action: str) -> dict[str, str]:
    """The hidden fields of one decision form on the inbox page."""
    forms = re.findall(r'<form method="post" action="([^"]+)"[^>]*>(.*?)</form>', html, re.S)
    for action_url, body in forms:
        if action_url.endswith(f"/approvals/{approval_id}/{action}"):
            return dict(re.findall(r'name="(\w+)" value="([^"]*)"', body))
    raise AssertionError(f"no {action} form for {approval_id}")


async def decide(
    api: ApiClient,
    cookies: httpx.Cookies,
    project_id: str,
    approval_id: str,
    action: str,
    fields: dict[str, str],
    *,
    json: bool = True,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    body = "&".join(f"{k}={v}" for k, v in fields.items())
    accept = {"Accept": "application/json"} if json else {}
    return await api.send_without_auth(
        "POST",
        f"/board/p/{project_id}/approvals/{approval_id}/{action}",
        content=body,
        cookies=cookies,
        headers=ORIGIN | FORM | accept | (headers or {}),
    )


async def pending_approval(store: Store, project_id: str) -> str:
    story_id = (await proposed_ids(store, project_id))[0]
    raw = await store.redis.get(keys.entity(project_id, "story", story_id))
    assert raw is not None
    match = re.search(r'"approval_id":"([^"]+)"', raw)
    assert match
    return match.group(1)


async def test_pages_need_a_login_and_the_login_form_sets_the_cookie(api: ApiClient) -> None:
    response = await api.send_without_auth("GET", "/board/p/x/sprint?fragment=1")
    assert response.status_code == 303
    assert response.headers["location"] == "/board/login?next=/board/p/x/sprint%3Ffragment%3D1"
    bad = await api.send_without_auth(
        "POST", "/board/login", content="token=nonsense", headers=ORIGIN | FORM
    )
    assert bad.status_code == 401
    assert "invalid" in bad.text
    cookies = await login(api, "viewer", "vera")
    assert "vera · viewer" in await page(api, "/board", cookies)


async def test_login_refuses_a_foreign_origin_and_only_board_paths_as_next(
    api: ApiClient,
) -> None:
    token = api.tokens("viewer")
    foreign = await api.send_without_auth(
        "POST",
        "/board/login",
        content=f"token={token}",
        headers={"Origin": "https://evil.example"} | FORM,
    )
    assert foreign.status_code == 403
    elsewhere = await api.send_without_auth(
        "POST",
        "/board/login",
        content=f"token={token}&next=//evil.example/board",
        headers=ORIGIN | FORM,
    )
    assert elsewhere.headers["location"] == "/board"


async def test_a_one_time_link_logs_in_once(api: ApiClient, redis: Redis) -> None:
    link = expect(
        await api.post(f"{API}/board/links", headers=api.as_role("approver", subject="ann")), 200
    )
    assert link["path"].startswith("/board/login/")
    assert link["expires_in"] == 120
    stored = [k async for k in redis.scan_iter("awf:board:link:*")]
    assert len(stored) == 1
    assert link["path"].rsplit("/", 1)[1] not in stored[0]  # only its digest is kept
    assert 0 < await redis.ttl(stored[0]) <= 120
    first = await api.send_without_auth("GET", link["path"])
    assert first.status_code == 303
    assert "ann · approver" in await page(api, "/board", first.cookies)
    again = await api.send_without_auth("GET", link["path"])
    assert again.status_code == 410
    assert "already used or has expired" in again.text
    assert (await api.send_without_auth("POST", f"{API}/board/links")).status_code == 401


async def test_every_page_renders_a_project_mid_sprint(api: ApiClient, store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.SPRINT_ACTIVE)
    story_id = (await sprint_story_ids(store, pid))[0]
    await run(store, "tdd start", {"story_id": story_id}, project_id=pid)
    cookies = await login(api, "viewer")
    overview = await page(api, "/board", cookies)
    assert f'data-project="{pid}"' in overview
    assert f"/board/events?p={pid}" in overview
    project = await page(api, f"/board/p/{pid}", cookies)
    assert 'class="node current" data-state="SPRINT_ACTIVE"' in project
    assert 'class="edge allowed" data-from="SPRINT_ACTIVE" data-to="SPRINT_PAUSED"' in project
    assert re.search(rf'data-events="/board/p/{pid}/events\?after=\d+-\d+"', project)
    sprint = await page(api, f"/board/p/{pid}/sprint", cookies)
    assert f'data-story="{story_id}" data-phase="DESIGN" data-status="queued"' in sprint
    story = await page(api, f"/board/p/{pid}/stories/{story_id}", cookies)
    assert 'class="phase current queued" data-phase="DESIGN"' in story
    assert "tdd start" in story
    assert "Approval inbox" in await page(api, f"/board/p/{pid}/inbox", cookies)
    metrics = await page(api, f"/board/p/{pid}/metrics", cookies)
    assert "Burndown" in metrics
    assert "counted in stories" in metrics
    fragment = await page(api, f"/board/p/{pid}/sprint?fragment=1", cookies)
    assert "<html" not in fragment
    assert f'data-story="{story_id}"' in fragment


async def test_an_approver_decides_from_the_inbox_once(api: ApiClient, store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    approval_id = await pending_approval(store, pid)
    cookies = await login(api, "approver", "paula")
    html = await page(api, f"/board/p/{pid}/inbox", cookies)
    fields = form_of(html, approval_id, "approve")
    decided = await decide(api, cookies, pid, approval_id, "approve", fields)
    assert decided.status_code == 200, decided.text
    assert decided.json() == {"ok": True, "message": f"Approved {approval_id}."}
    replay = await decide(api, cookies, pid, approval_id, "approve", fields)
    assert replay.json()["ok"] is True  # a double submit replays the first answer
    approvals = expect(await api.get(f"{API}/projects/{pid}/approvals?status=all"), 200)
    mine = [a for a in approvals["items"] if a["id"] == approval_id]
    assert mine[0]["status"] == "approved"
    assert mine[0]["decided_by"] == "paula"
    events = expect(await api.get(f"{API}/projects/{pid}/timeline?limit=1000"), 200)["events"]
    assert [e["command"] for e in events].count("approve") == 2  # the factory's and ours


async def test_a_stale_page_is_told_who_decided_and_nothing_changes(
    api: ApiClient, store: Store
) -> None:
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    approval_id = await pending_approval(store, pid)
    cookies = await login(api, "approver", "paula")
    stale = await page(api, f"/board/p/{pid}/inbox", cookies)
    expect(await api.post(f"{API}/projects/{pid}/approvals/{approval_id}/reject",
                          json={"reason": "not now"}), 200)  # fmt: skip
    fields = form_of(stale, approval_id, "approve")
    late = await decide(api, cookies, pid, approval_id, "approve", fields)
    assert late.status_code == 409
    assert late.json()["message"].startswith("Already decided by alice: rejected. Nothing changed")
    without_js = await decide(api, cookies, pid, approval_id, "approve", fields, json=False)
    assert without_js.status_code == 409
    assert "Already decided by alice: rejected" in without_js.text
    assert f'data-approval="{approval_id}" data-version' not in without_js.text  # not pending


async def test_a_viewer_sees_no_buttons_and_is_refused_anyway(api: ApiClient, store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    approval_id = await pending_approval(store, pid)
    viewer = await login(api, "viewer", "vera")
    html = await page(api, f"/board/p/{pid}/inbox", viewer)
    assert "<button" not in html.split('class="approvals"')[1]
    assert "deciding needs the approver role" in html
    approver_html = await page(api, f"/board/p/{pid}/inbox", await login(api, "approver"))
    fields = form_of(approver_html, approval_id, "approve")
    fields["csrf"] = csrf_for(api.tokens.secret, viewer["awf_board"])  # a well-formed post
    refused = await decide(api, viewer, pid, approval_id, "approve", fields)
    assert refused.status_code == 403
    assert "needs the approver role" in refused.json()["message"]
    by_bearer = await api.post(
        f"/board/p/{pid}/approvals/{approval_id}/approve",
        content="&".join(f"{k}={v}" for k, v in fields.items()),
        headers=api.as_role("viewer") | FORM | {"Accept": "application/json"},
    )
    assert by_bearer.status_code == 403
    pending = await store.redis.zrange(keys.index(pid, "approvals:pending"), 0, -1)
    assert approval_id in pending


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"csrf": "0" * 64}, "CSRF token mismatch"),
        ({"Origin": "https://evil.example"}, "another site"),
        ({"Origin": None}, "no Origin header"),
    ],
)
async def test_cookie_posts_need_the_csrf_token_and_the_same_origin(
    api: ApiClient, store: Store, change: dict[str, Any], message: str
) -> None:
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    approval_id = await pending_approval(store, pid)
    cookies = await login(api, "approver")
    fields = form_of(await page(api, f"/board/p/{pid}/inbox", cookies), approval_id, "approve")
    headers: dict[str, str] = {}
    if "csrf" in change:
        fields["csrf"] = change["csrf"]
    elif change["Origin"] is None:
        headers = {"Origin": ""}
    else:
        headers = {"Origin": change["Origin"]}
    refused = await decide(api, cookies, pid, approval_id, "approve", fields, headers=headers)
    assert refused.status_code == 403, refused.text
    assert message in refused.json()["message"]
    assert approval_id in await store.redis.zrange(keys.index(pid, "approvals:pending"), 0, -1)


async def test_a_reject_needs_a_reason(api: ApiClient, store: Store) -> None:
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    approval_id = await pending_approval(store, pid)
    cookies = await login(api, "approver")
    fields = form_of(await page(api, f"/board/p/{pid}/inbox", cookies), approval_id, "reject")
    empty = await decide(api, cookies, pid, approval_id, "reject", fields | {"reason": "+"})
    assert empty.status_code == 422
    assert "Say why" in empty.json()["message"]
    done = await decide(api, cookies, pid, approval_id, "reject", fields | {"reason": "too+big"})
    assert done.json() == {"ok": True, "message": f"Rejected {approval_id}."}


async def test_static_files_and_unknown_ones(api: ApiClient) -> None:
    css = await api.send_without_auth("GET", "/board/static/board.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert (await api.send_without_auth("GET", "/board/static/../app.py")).status_code == 404
    assert (await api.send_without_auth("GET", "/board/static/x.js")).status_code == 404


async def test_the_cookie_is_secure_behind_https(api: ApiClient) -> None:
    response = await api.send_without_auth(
        "POST",
        "/board/login",
        content=f"token={api.tokens('viewer')}",
        headers=ORIGIN | FORM | {"X-Forwarded-Proto": "https"},
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["set-cookie"]
    out = await api.send_without_auth(
        "POST", "/board/logout", cookies=response.cookies, headers=ORIGIN
    )
    assert out.headers["location"] == "/board/login"
    assert 'awf_board=""' in out.headers["set-cookie"]


async def test_the_origin_check_ignores_a_port_the_proxy_dropped(api: ApiClient) -> None:
    """nginx passes `Host: $host` (no port) while the browser's Origin names e.g. :8443."""
    response = await api.send_without_auth(
        "POST",
        "/board/login",
        content=f"token={api.tokens('viewer')}",
        headers={"Origin": "https://api:8443"} | FORM,
    )
    assert response.status_code == 303
