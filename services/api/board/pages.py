"""The board's pages: overview, project (Scrum diagram), sprint board, story, inbox, metrics.

Every page reads the newest timeline id *before* its data and hands it to its script as the
event stream's start, so a change made while the page renders still reaches it.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import JSONResponse, Response

from services.api.board import views
from services.api.board.decide import Decision, Verdict, decide
from services.api.board.diagrams import scrum_diagram, tdd_diagram
from services.api.board.diffs import commit_diff, commit_url
from services.api.board.login import form_fields
from services.api.board.metrics_view import sprint_metrics
from services.api.board.render import STATIC, page, static_file
from services.api.board.session import ApiUser, BoardUser, PageUser, check_post
from services.api.board.stream import latest_id
from services.api.deps import CommandsDep, SettingsDep, StoreDep
from shared.domain.commands import Role
from shared.domain.scrum import allowed_commands
from shared.platform.errors import BadRequest, NotFound
from shared.state.store import Store
from shared.workflow.repo import load_project

__all__ = ["router"]

router = APIRouter(prefix="/board", include_in_schema=False)
ProjectId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{0,39}$")]
EntityId = Annotated[str, Path(pattern=r"^[a-z]+-[0-9a-f]{4,32}$")]


@router.get("/static/{name}")
async def static(name: str) -> Response:
    if name not in STATIC:
        raise NotFound(f"No static file {name}.")
    return static_file(name)


@router.get("")
async def overview(
    request: Request, user: PageUser, store: StoreDep, settings: SettingsDep
) -> Response:
    rows = await views.overview(store, settings.budgets.caps())
    ids = [r["project"].id for r in rows]
    return page(request, "overview.html", user, rows=rows, events=_overview_events(ids))


def _overview_events(project_ids: list[str]) -> str:
    return "/board/events?" + "&".join(f"p={p}" for p in project_ids) if project_ids else ""


async def _project_context(store: Store, project_id: str) -> dict[str, Any]:
    """The stream start (read first), then the project: what every project page needs."""
    after = await latest_id(store.redis, project_id)
    project = await load_project(store, project_id)
    return {"project": project, "events": f"/board/p/{project_id}/events?after={after}"}


@router.get("/p/{project_id}")
async def project_page(
    project_id: ProjectId, request: Request, user: PageUser, store: StoreDep, settings: SettingsDep
) -> Response:
    ctx = await _project_context(store, project_id)
    project = ctx["project"]
    summary = await views.project_summary(store, project, settings.budgets.caps())
    return page(
        request,
        "project.html",
        user,
        tab="state",
        summary=summary,
        diagram=scrum_diagram(project.state),
        allowed=allowed_commands(project.state),
        **ctx,
    )


@router.get("/p/{project_id}/sprint")
async def sprint_page(
    project_id: ProjectId, request: Request, user: PageUser, store: StoreDep
) -> Response:
    ctx = await _project_context(store, project_id)
    board = await views.sprint_board(store, ctx["project"])
    return page(request, "sprint.html", user, tab="sprint", board=board, **ctx)


@router.get("/p/{project_id}/stories/{story_id}")
async def story_page(
    project_id: ProjectId, story_id: EntityId, request: Request, user: PageUser, store: StoreDep
) -> Response:
    ctx = await _project_context(store, project_id)
    story = await views.story_page(store, ctx["project"], story_id)
    diagram = tdd_diagram(story["cycle"])
    repo = ctx["project"].repo_url
    return page(
        request,
        "story.html",
        user,
        tab="sprint",
        diagram=diagram,
        repo_link=lambda sha: commit_url(repo, sha),
        **story,
        **ctx,
    )


@router.get("/p/{project_id}/commits/{sha}")
async def commit_page(
    project_id: ProjectId,
    sha: Annotated[str, Path(pattern=r"^[0-9a-f]{7,40}$")],
    request: Request,
    user: PageUser,
    store: StoreDep,
) -> Response:
    project = await load_project(store, project_id)
    diff = await commit_diff(project.repo_url, sha)
    return page(request, "commit.html", user, tab="sprint", project=project, sha=sha, diff=diff)


@router.get("/p/{project_id}/inbox")
async def inbox_page(
    project_id: ProjectId, request: Request, user: PageUser, store: StoreDep
) -> Response:
    return await _inbox(request, user, store, project_id, None)


async def _inbox(
    request: Request, user: BoardUser, store: Store, project_id: str, verdict: Verdict | None
) -> Response:
    ctx = await _project_context(store, project_id)
    box = await views.inbox(store, project_id)
    status = verdict.status_code if verdict else 200
    return page(
        request,
        "inbox.html",
        user,
        status,
        tab="inbox",
        inbox=box,
        verdict=verdict,
        can_decide=user.can(Role.APPROVER),
        form_key=lambda: secrets.token_hex(16),
        **ctx,
    )


@router.post("/p/{project_id}/approvals/{approval_id}/{action}")
async def decide_approval(
    project_id: ProjectId,
    approval_id: EntityId,
    action: str,
    request: Request,
    user: ApiUser,
    store: StoreDep,
    commands: CommandsDep,
) -> Response:
    if action not in ("approve", "reject"):
        raise NotFound("Decide with approve or reject.")
    fields = await form_fields(request)
    check_post(request, user, fields.get("csrf", ""))
    decision = _decision(project_id, approval_id, action, fields)
    verdict = await decide(commands, store, user, decision)
    if "application/json" in request.headers.get("accept", ""):
        body = {"ok": verdict.ok, "message": verdict.message}
        return JSONResponse(body, status_code=verdict.status_code)
    return await _inbox(request, user, store, project_id, verdict)


def _decision(project_id: str, approval_id: str, action: str, fields: dict[str, str]) -> Decision:
    version, key = fields.get("version", ""), fields.get("key", "")
    if not version.isdigit() or not 16 <= len(key) <= 64:
        raise BadRequest("The form lacks the approval's version or its key; reload the page.")
    reason = fields.get("reason", "")[:2_000]
    act: Any = action
    return Decision(project_id, approval_id, act, int(version), reason, key)


@router.get("/p/{project_id}/metrics")
async def metrics_page(
    project_id: ProjectId, request: Request, user: PageUser, store: StoreDep
) -> Response:
    ctx = await _project_context(store, project_id)
    numbers = await sprint_metrics(store, ctx["project"])
    return page(request, "metrics.html", user, tab="metrics", m=numbers, **ctx)
