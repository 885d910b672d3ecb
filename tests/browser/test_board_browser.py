"""The web board in headless Chromium against a real stack (two API replicas, one Redis).

A user logs in (token form, and the one-time link `awf board` prints), watches a story move
through its TDD phases live while an approver drives it, approves and rejects from the inbox
while a second browser on the other replica sees each decision, sees the Scrum diagram change,
and a stale page that decides too late is told who decided. Screenshots go to
artifacts/screenshots/.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from services.cli.processes import free_port_block
from services.cli.stack import Stack
from tests.browser.board_client import (  # noqa: F401 - api_fixture is found by name
    Apis,
    api_fixture,
    live,
    log_in,
    token,
)
from tests.browser.conftest import Browsers
from tests.e2e.conftest import run_awf

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(90)]
PHASES = ["DESIGN", "TEST_RED", "CODE_GREEN", "REFACTOR", "COMMIT"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("board-browser")
    env = {
        "AWF_ENV": "dev",
        "API__BOARD_HEARTBEAT_S": "1",
        "API__BOARD_STREAM_MAX_S": "3",  # every page reconnects (and resumes) every 3 s
        "ORCHESTRATOR__MAX_CONCURRENT_PROJECTS": "20",
    }
    stack = Stack(
        root, port=free_port_block(2), replicas=2, appendonly=False, env=env, ready_timeout=60
    )
    with stack:
        yield stack


def test_log_in_with_a_token_and_with_the_link_awf_board_prints(
    stack: Stack,
    api: Apis,
    browsers: Browsers,
    screenshots: Path,
    awf_env: dict[str, str],
) -> None:
    admin = api()
    stories = admin.project("login", ["Add two numbers"])
    page = browsers.new().new_page()
    page.goto(f"{stack.api_url}/board/p/login")
    expect(page.get_by_role("heading", name="Log in to the board")).to_be_visible()
    page.screenshot(path=screenshots / "01-login.png")
    log_in(page, stack.api_url, token(stack, "viewer", "vera"))
    expect(page.locator(".who")).to_contain_text("vera · viewer")
    card = page.locator('article[data-project="login"]')
    expect(card).to_contain_text("BACKLOG_READY")
    live(page)
    admin.command("login", "approve", {"ids": stories})
    admin.command("login", "sprint plan", {"story_ids": stories, "goal": "add"})
    expect(card).to_contain_text("SPRINT_PLANNED")  # the overview follows every project live
    page.screenshot(path=screenshots / "02-overview.png", full_page=True)

    env = awf_env | {"AWF_API_URL": stack.api_urls[1], "AWF_TOKEN": token(stack, "approver", "ann")}
    printed = run_awf(env, "board")
    assert printed.returncode == 0, printed.stderr
    link = printed.stdout.strip()
    assert link.startswith(f"{stack.api_urls[1]}/board/login/")
    other = browsers.new().new_page()
    other.goto(link)
    expect(other).to_have_url(f"{stack.api_urls[1]}/board")
    expect(other.locator(".who")).to_contain_text("ann · approver")
    third = browsers.new().new_page()
    third.goto(link)
    expect(third.locator(".error")).to_contain_text("already used or has expired")


def test_watch_a_story_move_through_its_phases_live(
    stack: Stack, api: Apis, browsers: Browsers, screenshots: Path
) -> None:
    admin = api()
    story = admin.project("phases", ["Add two numbers"])[0]
    admin.command("phases", "approve", {"ids": [story]})
    admin.command("phases", "sprint plan", {"story_ids": [story], "goal": "add"})
    admin.command("phases", "sprint start")
    page = browsers.new().new_page()
    log_in(page, stack.api_url, token(stack, "viewer", "vera"))
    page.goto(f"{stack.api_url}/board/p/phases/sprint")
    live(page)
    card = page.locator(f'li[data-story="{story}"]')
    expect(card).to_have_attribute("data-phase", "")
    driver = api("approver", "paula", replica=1)  # the other replica writes
    driver.command("phases", "tdd start", {"story_id": story})
    for index, phase in enumerate(PHASES):
        expect(card).to_have_attribute("data-phase", phase)
        expect(card.locator(".cycle-status")).to_have_text("queued")
        said = f"phase skipped {PHASES[index - 1]}" if index else "tdd start"
        expect(page.get_by_role("status")).to_contain_text(said)  # told to screen readers
        page.screenshot(path=screenshots / f"03-sprint-{index + 1}-{phase}.png")
        why = {"justification": f"browser test: past {phase}"}
        driver.command("phases", "tdd skip_phase", {"story_id": story} | why)
    expect(page.locator("section.column", has=card)).to_contain_text("Done")
    expect(card).to_have_attribute("data-status", "done")
    page.screenshot(path=screenshots / "04-sprint-done.png", full_page=True)
    card.get_by_role("link").click()
    expect(page.locator('g.phase[data-phase="COMMIT"]')).to_have_class("phase skipped")
    expect(page.locator(".timeline")).to_contain_text("tdd skip_phase")
    page.screenshot(path=screenshots / "05-story.png", full_page=True)


def test_approve_and_reject_in_the_inbox_while_a_second_browser_watches(
    stack: Stack, api: Apis, browsers: Browsers, screenshots: Path
) -> None:
    first, second = api().project("inbox", ["Add two numbers", "Subtract two numbers"])
    approver = browsers.new().new_page()
    log_in(approver, stack.api_urls[0], token(stack, "approver", "paula"))
    watcher = browsers.new(width=390, height=844).new_page()  # a phone, on the other replica
    log_in(watcher, stack.api_urls[1], token(stack, "viewer", "vera"))
    approver.goto(f"{stack.api_urls[0]}/board/p/inbox/inbox")
    watcher.goto(f"{stack.api_urls[1]}/board/p/inbox/inbox")
    live(approver)
    live(watcher)
    expect(watcher.locator("li.approval")).to_have_count(2)
    expect(watcher.locator("li.approval button")).to_have_count(0)  # a viewer gets no buttons
    approver.screenshot(path=screenshots / "06-inbox.png", full_page=True)

    row = approver.locator("li.approval", has_text=first)
    row.get_by_role("button", name="Approve").click()
    clicked = time.monotonic()
    expect(approver.locator("#notice")).to_contain_text("Approved")
    expect(watcher.locator("li.approval")).to_have_count(1)
    seen_after = time.monotonic() - clicked
    print(f"second browser saw the approval after {seen_after:.2f} s")  # noqa: T201
    expect(watcher.locator("table.decided")).to_contain_text("approved")
    watcher.screenshot(path=screenshots / "07-inbox-phone-after-approve.png", full_page=True)

    row = approver.locator("li.approval", has_text=second)
    row.get_by_label("Reason").fill("out of scope")
    row.get_by_role("button", name="Reject").click()
    expect(approver.locator("#notice")).to_contain_text("Rejected")
    expect(watcher.locator("li.approval")).to_have_count(0)
    expect(watcher.locator("table.decided")).to_contain_text("out of scope")
    approver.screenshot(path=screenshots / "08-inbox-decided.png", full_page=True)


def test_a_stale_page_is_told_who_decided_first(
    stack: Stack, api: Apis, browsers: Browsers, screenshots: Path
) -> None:
    story = api().project("stale", ["Multiply two numbers"])[0]
    stale = browsers.new().new_page()
    log_in(stale, stack.api_url, token(stack, "approver", "sam"))
    stale.route("**/board/p/stale/events*", lambda route: route.abort())  # no live updates
    stale.goto(f"{stack.api_url}/board/p/stale/inbox")
    expect(stale.locator("li.approval")).to_have_count(1)
    api("approver", "paula", replica=1).command("stale", "approve", {"ids": [story]})
    stale.locator("li.approval").get_by_role("button", name="Approve").click()
    expect(stale.locator("#notice")).to_contain_text("Already decided by paula: approved")
    expect(stale.locator("li.approval")).to_have_count(0)  # and the page shows what is true now
    stale.screenshot(path=screenshots / "09-stale-decision.png", full_page=True)


def test_the_state_diagram_changes_live(
    stack: Stack, api: Apis, browsers: Browsers, screenshots: Path
) -> None:
    admin = api()
    stories = admin.project("diagram", ["Add two numbers"])
    admin.command("diagram", "approve", {"ids": stories})
    page = browsers.new().new_page()
    log_in(page, stack.api_urls[1], token(stack, "member", "mark"))
    page.goto(f"{stack.api_urls[1]}/board/p/diagram")
    live(page)
    current = page.locator("g.node.current")
    expect(current).to_have_attribute("data-state", "BACKLOG_READY")
    allowed = page.locator("g.edge.allowed")
    expect(allowed).to_have_attribute("data-to", "SPRINT_PLANNED")
    page.screenshot(path=screenshots / "10-diagram-backlog-ready.png", full_page=True)
    admin.command("diagram", "sprint plan", {"story_ids": stories, "goal": "add"})
    expect(current).to_have_attribute("data-state", "SPRINT_PLANNED")
    expect(allowed).to_have_attribute("data-to", "SPRINT_ACTIVE")
    admin.command("diagram", "sprint start")
    expect(current).to_have_attribute("data-state", "SPRINT_ACTIVE")
    expect(page.locator(".chips")).to_contain_text("/sprint pause")
    page.screenshot(path=screenshots / "11-diagram-sprint-active.png", full_page=True)
    page.get_by_role("link", name="Metrics").click()
    expect(page.locator("svg.chart.burndown")).to_be_visible()
    page.screenshot(path=screenshots / "12-metrics.png", full_page=True)


RECORD_STREAM = """
const Native = window.EventSource;
window.seen = [];
window.opens = 0;
window.EventSource = function (url, options) {
  const source = new Native(url, options);
  source.addEventListener("timeline", (e) => window.seen.push(e.lastEventId));
  source.addEventListener("open", () => { window.opens += 1; });
  return source;
};
"""


def test_the_browser_resumes_its_stream_without_gaps_or_duplicates(
    stack: Stack, api: Apis, browsers: Browsers
) -> None:
    admin = api()
    admin.project("resume", ["Add two numbers"])
    page = browsers.new().new_page()
    page.add_init_script(RECORD_STREAM)
    log_in(page, stack.api_url, token(stack, "viewer", "vera"))
    page.goto(f"{stack.api_url}/board/p/resume")
    live(page)
    start = page.locator("main").get_attribute("data-events")
    assert start is not None
    after = start.split("after=")[1]
    writer = api(replica=1)
    deadline = time.monotonic() + 8  # past two stream ends (api.board_stream_max_s = 3)
    while time.monotonic() < deadline:
        writer.command("resume", "backlog add_story", {"title": f"story {time.monotonic()}"})
        time.sleep(0.2)
    ids = [e["id"] for e in writer.timeline("resume", after)]
    page.wait_for_function(f"window.seen.length >= {len(ids)}")
    assert page.evaluate("window.seen") == ids  # each event once, in order
    assert page.evaluate("window.opens") >= 3  # the browser reconnected, resuming each time
