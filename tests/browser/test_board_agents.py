"""The board while real agents work: a worker with the scripted model runs a story's TDD cycle
in blocking mode, an approver approves each phase result (and then the merge) from the inbox in
one browser, and a viewer's sprint board on the other replica follows the card through every phase, live.

Every value the card's ``data-phase`` takes is recorded in the viewer's page (a
MutationObserver), so a phase the page never showed fails the test even if it was brief.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from services.cli.processes import free_port_block
from services.cli.sample_repo import make_sample_repo
from services.cli.stack import Stack
from tests.browser.board_client import (  # noqa: F401 - api_fixture is found by name
    Apis,
    api_fixture,
    live,
    log_in,
    token,
)
from tests.browser.conftest import Browsers

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(300)]
PHASES = ["DESIGN", "TEST_RED", "CODE_GREEN", "REFACTOR", "COMMIT"]
PID = "agents"
AGENT_WAIT_MS = 90_000  # one phase of a real agent and its test runs, on a busy 2-core box


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("board-agents")
    env = {
        "AWF_ENV": "dev",
        "API__BOARD_HEARTBEAT_S": "1",
        "ORCHESTRATOR__MODE": "blocking",
    }
    stack = Stack(
        root,
        port=free_port_block(2),
        replicas=2,
        workers=1,
        appendonly=False,
        env=env,
        ready_timeout=60,
    )
    with stack:
        yield stack


RECORD_PHASES = """
(card) => {
  window.phases = [card.dataset.phase];
  const watch = () => {
    const now = document.querySelector(`li[data-story="${card.dataset.story}"]`);
    if (now && now.dataset.phase !== window.phases.at(-1)) window.phases.push(now.dataset.phase);
  };
  new MutationObserver(watch).observe(document.getElementById("main"), {
    subtree: true, childList: true, attributes: true, attributeFilter: ["data-phase"],
  });
}
"""


def approve(inbox: Page, text: str) -> None:
    row = inbox.locator("li.approval", has_text=text)
    expect(row).to_be_visible(timeout=AGENT_WAIT_MS)
    row.get_by_role("button", name="Approve").click()
    expect(inbox.locator("#notice")).to_contain_text("Approved")
    expect(row).to_have_count(0)


def test_a_viewer_watches_real_agents_move_a_story_while_an_approver_decides_each_phase(
    stack: Stack,
    api: Apis,
    browsers: Browsers,
    screenshots: Path,
    tmp_path: Path,
) -> None:
    remote = tmp_path / "calculator.git"  # bare, as a forge's: a merge pushes its main
    made = make_sample_repo(tmp_path / "calculator")
    subprocess.run(["git", "clone", "--quiet", "--bare", made, remote], check=True, timeout=30)
    admin = api()
    registered = admin.http.post(
        "/api/v1/projects", json={"repo_url": str(remote), "id": PID, "name": "Calculator"}
    )
    assert registered.status_code == 201, registered.text
    assert admin.http.post(f"/api/v1/projects/{PID}/start").status_code == 200
    epic = {"description": "Arithmetic", "stories": [{"title": "Add two numbers"}]}
    (story,) = admin.command(PID, "epic", epic)["result"]["proposed_story_ids"]
    admin.command(PID, "approve", {"ids": [story]})
    admin.command(PID, "sprint plan", {"story_ids": [story], "goal": "add"})

    viewer = browsers.new().new_page()
    log_in(viewer, stack.api_urls[1], token(stack, "viewer", "vera"))
    viewer.goto(f"{stack.api_urls[1]}/board/p/{PID}/sprint")
    live(viewer)
    card = viewer.locator(f'li[data-story="{story}"]')
    expect(card).to_have_attribute("data-phase", "")
    card.evaluate(RECORD_PHASES)
    inbox = browsers.new().new_page()
    log_in(inbox, stack.api_urls[0], token(stack, "approver", "paula"))
    inbox.goto(f"{stack.api_urls[0]}/board/p/{PID}/inbox")
    live(inbox)

    admin.command(PID, "sprint start")
    for index, phase in enumerate(PHASES[:-1]):  # COMMIT's result is the merge approval
        parked = inbox.locator("li.approval", has_text=f"{phase} of {story}")
        expect(parked).to_be_visible(timeout=AGENT_WAIT_MS)
        expect(card).to_have_attribute("data-phase", phase)  # the result waits for a human
        expect(card.locator(".cycle-status")).to_have_text("waiting")
        viewer.screenshot(path=screenshots / f"20-agents-{index + 1}-{phase}.png")
        approve(inbox, f"{phase} of {story}")
    expect(card).to_have_attribute("data-status", "done", timeout=AGENT_WAIT_MS)
    expect(card).to_have_attribute("data-phase", "COMMIT")
    assert viewer.evaluate("window.phases") == ["", *PHASES]  # each phase shown, in order

    approve(inbox, f"Story {story} is done")  # blocking mode asks before merging, too
    viewer.goto(f"{stack.api_urls[1]}/board/p/{PID}/stories/{story}")
    expect(viewer.locator(".timeline")).to_contain_text("story merged", timeout=AGENT_WAIT_MS)
    for phase in PHASES:
        evidence = viewer.locator(f'article.evidence[data-phase="{phase}"]')
        expect(evidence).to_contain_text("passed")
    log = ["git", "-C", str(remote), "log", "--format=%s", "main"]
    merged = subprocess.run(log, check=True, capture_output=True, text=True, timeout=30).stdout
    assert story in merged  # the approved merge reached the remote's main
    viewer.screenshot(path=screenshots / "21-agents-story-merged.png", full_page=True)
