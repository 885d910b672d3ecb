"""merge_story: merge a finished story's branch into the default branch, test, then push."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import structlog

from services.worker.deps import WorkerDeps, deps
from shared.agents.merge_workspace import MergeWorkspace
from shared.agents.testrunner import run_tests
from shared.agents.workspace import WorkspaceError, story_branch
from shared.domain.evidence import Outcome
from shared.domain.models import Project, ProjectMode, Story
from shared.domain.security import security_critical
from shared.state import keys
from shared.workflow.merging import AUTONOMOUS_APPROVER, ask_again, ask_to_merge, record_merged

__all__ = ["merge_story"]

log = structlog.get_logger("worker.merge")


async def merge_story(
    ctx: dict[str, Any], project_id: str, story_id: str, approval_id: str | None = None
) -> str:
    """Merge, test and push; without an approval id this is autonomous mode's own merge."""
    d = deps(ctx)
    project = await d.store.get(Project, keys.project(project_id))
    story = await d.store.get(Story, keys.entity(project_id, "story", story_id))
    if project is None or story is None:
        return "gone"
    if approval_id is None and project.mode is not ProjectMode.AUTONOMOUS:
        reason = f"the project is in {project.mode.value} mode now, not autonomous."
        await ask_to_merge(d.store, project_id, story_id, reason)
        return "asked"
    with tempfile.TemporaryDirectory(prefix="awf-merge-") as tmp:
        ws = await MergeWorkspace.clone(
            project.repo_url, Path(tmp) / "repo", project.default_branch
        )
        outcome = await _merge_test_push(d, ws, project, story, approval_id)
    log.info("story_merge", project_id=project_id, story_id=story_id, outcome=outcome)
    return outcome


async def _merge_test_push(
    d: WorkerDeps, ws: MergeWorkspace, project: Project, story: Story, approval_id: str | None
) -> str:
    pid, sid = project.id, story.id
    try:
        sha = await ws.merge(story_branch(sid), f"Merge {sid}: {story.title}")
    except WorkspaceError as exc:
        await ask_again(d.store, pid, sid, str(exc))
        return "conflict"
    if approval_id is None and (flagged := await _flagged(d, ws)):
        await ask_to_merge(d.store, pid, sid, _security_reason(flagged))
        return "asked"
    suite = await run_tests(ws.root, project.test_command, limits=d.test_limits)
    if not suite.green:
        failing = ", ".join((suite.ids(Outcome.FAILED) + suite.ids(Outcome.ERROR))[:10])
        reason = f"the suite fails after merging: {failing or 'see the test output'}."
        await ask_again(d.store, pid, sid, reason)
        return "red"
    try:
        await ws.push()
    except WorkspaceError as exc:
        reason = f"pushing {project.default_branch} failed (did another merge land first?): {exc}"
        await ask_again(d.store, pid, sid, reason)
        return "raced"
    await record_merged(d.store, pid, sid, sha, approval_id or AUTONOMOUS_APPROVER)
    return "merged"


async def _flagged(d: WorkerDeps, ws: MergeWorkspace) -> list[str]:
    return security_critical(await ws.changed_files(), d.settings.orchestrator.security_paths)


def _security_reason(flagged: list[str]) -> str:
    shown = ", ".join(flagged[:10]) + (
        f" and {len(flagged) - 10} more" if len(flagged) > 10 else ""
    )
    return (
        f"it touches security-critical paths, which a human approves: {shown} "
        "(orchestrator.security_paths)."
    )
