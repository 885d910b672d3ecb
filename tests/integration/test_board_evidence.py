"""The story page shows what the orchestrator recorded (test results, output tail, commits,
refusals), the sprint card sums it up, and a commit's diff is read from the repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from shared.domain.commands import Role
from shared.state.store import Store
from shared.workflow import cycles
from shared.workflow.cycles import PhaseOutcome
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
from tests.integration.tdd_helpers import evidence, outcome, sprint_with_cycles, take_current

pytestmark = pytest.mark.integration


async def board_get(api: ApiClient, path: str) -> str:
    """A page as a viewer holding a bearer token (the board accepts the API's own auth)."""
    response = await api.get(path, headers=api.as_role(Role.VIEWER))
    assert response.status_code == 200, (path, response.text[:300], api.errors.describe())
    return response.text


async def test_the_story_page_shows_each_phase_evidence(api: ApiClient, store: Store) -> None:
    pid, story_ids = await sprint_with_cycles(store)
    story_id = story_ids[0]
    design = await take_current(store, pid, story_id)
    note = evidence("DESIGN", 1, True, changed_files=["docs/design/add.md"])
    await cycles.record(store, design, PhaseOutcome(evidence=note, head_sha="a1b2c3d"))
    red = await take_current(store, pid, story_id)
    await cycles.record(store, red, outcome(red, False))

    html = await board_get(api, f"/board/p/{pid}/stories/{story_id}")
    assert 'class="phase passed" data-phase="DESIGN"' in html
    assert 'class="phase current queued" data-phase="TEST_RED"' in html
    design_part = html.split('data-phase="DESIGN">', 2)[2].split("</article>")[0]
    assert 'href="/board/p/' + pid + '/commits/a1b2c3d"' in design_part
    assert "<code>docs/design/add.md</code>" in design_part
    red_part = html.split('<article class="evidence" data-phase="TEST_RED">')[1]
    assert "not passed" in red_part
    assert "exit 1 · 0 passed · 1 failing" in red_part
    assert "<code>tests/test_calc.py::test_add</code>" in red_part
    assert "AssertionError: assert 3 == 4" in red_part  # the output tail
    assert "The RED tests must pass now." in html
    assert "phase refused" in html  # the timeline

    board = await board_get(api, f"/board/p/{pid}/sprint")
    card = board.split(f'data-story="{story_id}"')[1].split("</li>")[0]
    assert "0 passed, 1 failing" in card
    assert "1 (2 in all)" in card  # attempt of TEST_RED, attempts over the cycle
    assert "The RED tests must pass now." in card


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout.strip()


async def test_a_commit_page_shows_the_diff_from_a_local_repository(
    api: ApiClient, tmp_path: Path
) -> None:
    repo = tmp_path / "calc"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "calc.py").write_text("def add(a, b):\n    return a + b  # <sum>\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "Add: two numbers")
    sha = git(repo, "rev-parse", "HEAD")
    body = {"repo_url": str(repo), "id": "diffs"}
    expect(await api.post(f"{API}/projects", json=body), 201)
    html = await board_get(api, f"/board/p/diffs/commits/{sha}")
    assert '<span class="add">+    return a + b  # &lt;sum&gt;</span>' in html
    assert "Add: two numbers" in html
    unknown = await board_get(api, f"/board/p/diffs/commits/{'0' * 40}")
    assert "git show" in unknown
    assert "failed" in unknown
    bad = await api.get("/board/p/diffs/commits/HEAD~1", headers=api.as_role(Role.VIEWER))
    assert bad.status_code == 422


async def test_a_remote_repository_links_to_its_forge(api: ApiClient) -> None:
    body = {"repo_url": "https://github.com/acme/calc.git", "id": "remote"}
    expect(await api.post(f"{API}/projects", json=body), 201)
    html = await board_get(api, "/board/p/remote/commits/a1b2c3d")
    assert "not on a path this replica can read" in html
    assert "https://github.com/acme/calc/commit/a1b2c3d" in html


async def test_pages_answer_404_for_unknown_projects_and_stories(api: ApiClient) -> None:
    viewer = api.as_role(Role.VIEWER)
    assert (await api.get("/board/p/nope", headers=viewer)).status_code == 404
    expect(await api.post(f"{API}/projects", json={"repo_url": "/x", "id": "known"}), 201)
    missing = await api.get("/board/p/known/stories/story-0000aaaa", headers=viewer)
    assert missing.status_code == 404
