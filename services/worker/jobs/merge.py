"""merge_story: merge a finished story's branch into the default branch, test, then push."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import structlog

from services.worker.deps import deps
from shared.agents.merge_workspace import MergeWorkspace
from shared.agents.testrunner import run_tests
from shared.agents.workspace import WorkspaceError, story_branch
from shared.domain.evidence import Outcome
from shared.domain.models import Project, Story
from shared.state import keys
from shared.workflow.merging import ask_again, record_merged

__all__ = ["merge_story"]

log = structlog.get_logger("worker.merge")


async def merge_story(ctx: dict[str, Any], project_id: str, story_id: str) -> str:
    d = deps(ctx)
    project = await d.store.get(Project, keys.project(project_id))
    story = await d.store.get(Story, keys.entity(project_id, "story", story_id))
    if project is None or story is None:
        return "gone"
    with tempfile.TemporaryDirectory(prefix="awf-merge-") as tmp:
        ws = await MergeWorkspace.clone(
            project.repo_url, Path(tmp) / "repo", project.default_branch
        )
        try:
            sha = await ws.merge(story_branch(story_id), f"Merge {story_id}: {story.title}")
        except WorkspaceError as exc:
            await ask_again(d.store, project_id, story_id, str(exc))
            return "conflict"
        suite = await run_tests(ws.root, project.test_command, limits=d.test_limits)
        if not suite.green:
            failing = ", ".join((suite.ids(Outcome.FAILED) + suite.ids(Outcome.ERROR))[:10])
            reason = f"the suite fails after merging: {failing or 'see the test output'}."
            await ask_again(d.store, project_id, story_id, reason)
            return "red"
        try:
            await ws.push()
        except WorkspaceError as exc:
            reason = (
                f"pushing {project.default_branch} failed (did another merge land first?): {exc}"
            )
            await ask_again(d.store, project_id, story_id, reason)
            return "raced"
    await record_merged(d.store, project_id, story_id, sha)
    log.info("story_merged", project_id=project_id, story_id=story_id, sha=sha)
    return "merged"
