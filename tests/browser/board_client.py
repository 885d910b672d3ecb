"""What the board's browser tests share: tokens, an HTTP API client per role and replica, logging
a page in and waiting for its event stream."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from services.cli.stack import Stack
from shared.domain.commands import Role
from shared.platform.auth import mint_token

__all__ = ["Api", "Apis", "api_fixture", "live", "log_in", "token"]


def token(stack: Stack, role: str, subject: str) -> str:
    return mint_token(stack.jwt_secret, subject, Role[role.upper()], timedelta(hours=1))


class Api:
    """The HTTP API as a user with `role`, on one replica."""

    def __init__(self, stack: Stack, role: str = "admin", subject: str = "alice", replica: int = 0):
        self.http = httpx.Client(
            base_url=stack.api_urls[replica],
            headers={"Authorization": f"Bearer {token(stack, role, subject)}"},
            timeout=15,
        )

    def command(self, project_id: str, name: str, args: dict[str, Any] | None = None) -> Any:
        response = self.http.post(
            f"/api/v1/projects/{project_id}/commands",
            json={"command": name, "args": args or {}},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert response.status_code < 300, response.text
        return response.json()

    def timeline(self, project_id: str, after: str) -> list[dict[str, Any]]:
        page = self.http.get(
            f"/api/v1/projects/{project_id}/timeline", params={"after": after, "limit": 1000}
        )
        events: list[dict[str, Any]] = page.json()["events"]
        return events

    def project(self, project_id: str, stories: list[str]) -> list[str]:
        """A started project in BACKLOG_READY with `stories` proposed; their ids."""
        registered = self.http.post(
            "/api/v1/projects",
            json={"repo_url": f"/srv/git/{project_id}.git", "id": project_id, "name": project_id},
        )
        assert registered.status_code == 201, registered.text
        assert self.http.post(f"/api/v1/projects/{project_id}/start").status_code == 200
        epic = self.command(
            project_id,
            "epic",
            {"description": "Arithmetic", "stories": [{"title": t} for t in stories]},
        )
        ids: list[str] = epic["result"]["proposed_story_ids"]
        return ids


class Apis:
    """Makes `Api` clients for a test and closes them after it."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.made: list[Api] = []

    def __call__(self, role: str = "admin", subject: str = "alice", replica: int = 0) -> Api:
        self.made.append(Api(self.stack, role, subject, replica))
        return self.made[-1]


def log_in(page: Page, base: str, bearer: str) -> None:
    page.goto(f"{base}/board")
    expect(page).to_have_url(f"{base}/board/login?next=/board")
    page.get_by_label("Token").fill(bearer)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base}/board")


def live(page: Page) -> None:
    """Wait until the page's event stream is open."""
    expect(page.locator("body")).to_have_attribute("data-live", "on")


@pytest.fixture(name="api")
def api_fixture(stack: Stack) -> Iterator[Apis]:
    apis = Apis(stack)
    yield apis
    for made in apis.made:
        made.http.close()
