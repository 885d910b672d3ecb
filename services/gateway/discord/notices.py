"""Pure: which Discord messages a timeline event becomes, and where (the project's channel or
a story's thread). Tool calls become no message; phase results carry their count instead.

Every message stays within Discord's limits; full logs are one link away on the API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from services.gateway.discord import wire
from services.gateway.discord.components import approval_row, blocked_row
from services.gateway.discord.render import mention
from shared.domain.models import Approval, ApprovalKind, ApprovalStatus

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from services.gateway.discord.wire import Json
    from shared.state.timeline import TimelineEvent

__all__ = ["Notice", "NoticeContext", "approval_ids_of", "notices_for"]

_REVIEW_COLOR = 0x3498DB
_NO_MENTIONS: Json = {"parse": []}


@dataclass(frozen=True)
class Notice:
    """One message: to the story's thread, or to the project's channel when story_id is None."""

    body: Json
    story_id: str | None = None


@dataclass(frozen=True)
class NoticeContext:
    project_id: str
    approvals: Mapping[str, Approval] = field(default_factory=dict)  # by approval id
    story_approvals: Mapping[str, Approval] = field(default_factory=dict)  # by story id
    tool_calls: int = 0
    link: str | None = None


def approval_ids_of(event: TimelineEvent) -> list[str]:
    """Approval ids the event's message shows buttons for (to load before rendering)."""
    found = event.payload.get("approval_id")
    return [str(found)] if found else []


def notices_for(event: TimelineEvent, ctx: NoticeContext) -> list[Notice]:
    render = _RENDERERS.get(event.command)
    if render is not None:
        return render(event, ctx)
    if approval_ids_of(event):
        return _approval_asked(event, ctx)
    return []


def _text(text: str, link: str | None = None, rows: list[Json] | None = None) -> Json:
    tail = f"\n[full log](<{link}>)" if link else ""
    content = wire.fit(text, wire.MAX_CONTENT - len(tail)) + tail
    body: Json = {"content": content, "allowed_mentions": _NO_MENTIONS}
    if rows:
        body["components"] = rows[: wire.MAX_ROWS]
    return body


def _story(event: TimelineEvent) -> str | None:
    story_id = event.payload.get("story_id") or event.payload.get("result", {}).get("story_id")
    return str(story_id) if story_id else None


def _phase_line(event: TimelineEvent) -> str:
    p = event.payload
    return f"**{p.get('phase', '?')}** (attempt {p.get('attempt', '?')})"


def _tools(ctx: NoticeContext) -> str:
    return f" · {ctx.tool_calls} tool calls" if ctx.tool_calls else ""


def _phase_started(event: TimelineEvent, ctx: NoticeContext) -> list[Notice]:
    return [Notice(_text(f"▶️ {_phase_line(event)} started"), _story(event))]


def _phase_passed(event: TimelineEvent, ctx: NoticeContext) -> list[Notice]:
    p = event.payload
    tests = f" · tests: {p.get('passed')} passed, {p.get('failed')} failed"
    commit = f" · commit `{str(p['commit'])[:10]}`" if p.get("commit") else ""
    by = f" · approved by {mention(str(p['approved_by']))}" if p.get("approved_by") else ""
    line = f"✅ {_phase_line(event)} passed: {p.get('gate') or 'gate passed'}"
    text = line + (tests if p.get("passed") is not None else "") + commit + by + _tools(ctx)
    return [Notice(_text(text, ctx.link), _story(event))]


def _phase_refused(event: TimelineEvent, ctx: NoticeContext) -> list[Notice]:
    reason = event.payload.get("reason") or event.payload.get("gate") or "no reason recorded"
    text = f"❌ {_phase_line(event)} refused: {reason}{_tools(ctx)}"
    return [Notice(_text(text, ctx.link), _story(event))]


def _rows_for(project_id: str, approval: Approval | None) -> list[Json]:
    if approval is None or approval.status is not ApprovalStatus.PENDING:
        return []
    if approval.kind is ApprovalKind.BLOCKED_TASK:
        return [blocked_row(project_id, approval)]
    return [approval_row(project_id, approval)]


def _approval_asked(event: TimelineEvent, ctx: NoticeContext) -> list[Notice]:
    approval = ctx.approvals.get(approval_ids_of(event)[0])
    summary = approval.summary if approval else event.command
    rows = _rows_for(ctx.project_id, approval)
    return [Notice(_text(f"🙋 Approval needed: {summary}", ctx.link, rows), _story(event))]


def _blocked(event: TimelineEvent, ctx: NoticeContext) -> list[Notice]:
    story_id = _story(event)
    approval = ctx.approvals.get(approval_ids_of(event)[0]) if approval_ids_of(event) else None
    reason = event.payload.get("reason", "")
    rows = _rows_for(ctx.project_id, approval)
    in_thread = _text(f"🚧 **Blocked**: {reason}\nSuggest a fix or skip the task.", ctx.link, rows)
    in_channel = _text(f"🚧 The sprint is blocked on {story_id}: decide in the story's thread.")
    return [Notice(in_thread, story_id), Notice(in_channel)]


def _line(
    template: str, in_thread: bool = False
) -> Callable[[TimelineEvent, NoticeContext], list[Notice]]:
    def render(event: TimelineEvent, ctx: NoticeContext) -> list[Notice]:
        result: dict[str, Any] = event.payload.get("result") or event.payload
        values = {"actor": mention(event.actor), **_flat(result), **_flat(event.payload)}
        text = template.format_map(_Missing(values))
        return [Notice(_text(text), _story(event) if in_thread else None)]

    return render


class _Missing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _flat(values: dict[str, Any]) -> dict[str, Any]:
    return {k: (len(v) if isinstance(v, list) else v) for k, v in values.items()}


def _proposals(event: TimelineEvent, ctx: NoticeContext) -> list[Notice]:
    """Approve/Reject rows for each proposed story, five rows (Discord's most) per message."""
    result = event.payload.get("result") or event.payload
    story_ids = result.get("proposed_story_ids") or result.get("story_ids") or []
    approvals = [ctx.story_approvals[s] for s in story_ids if s in ctx.story_approvals]
    pending = [a for a in approvals if a.status is ApprovalStatus.PENDING]
    notices: list[Notice] = []
    for start in range(0, len(pending), wire.MAX_ROWS):
        chunk = pending[start : start + wire.MAX_ROWS]
        lines = "\n".join(f"• {wire.fit(a.summary, 150)} ({a.subject_id})" for a in chunk)
        rows = [approval_row(ctx.project_id, a) for a in chunk]
        head = f"📝 Stories proposed ({start + 1}-{start + len(chunk)} of {len(pending)}):"
        notices.append(Notice(_text(f"{head}\n{lines}", rows=rows)))
    return notices


def _review(event: TimelineEvent, ctx: NoticeContext) -> list[Notice]:
    summary = str(event.payload.get("summary") or "No summary.")
    embed: Json = {
        "title": "Sprint review",
        "description": wire.fit(summary, wire.MAX_EMBED_DESCRIPTION),
        "color": _REVIEW_COLOR,
    }
    if ctx.link:
        embed["url"] = ctx.link
    text = "📊 The sprint review is ready. Close it with /feedback or /request_changes."
    return [Notice({**_text(text), "embeds": [embed]})]


def _deadline(event: TimelineEvent, ctx: NoticeContext) -> list[Notice]:
    p = event.payload
    approval = ctx.approvals.get(str(p.get("approval_id")))
    summary = wire.fit(approval.summary if approval else str(p.get("approval_id")), 300)
    if event.command == "approval reminder":
        text = f"⏰ Reminder: decide by <t:{int(p.get('deadline_ts', 0))}:R>: {summary}"
        rows = _rows_for(ctx.project_id, approval)
    else:
        text = f"⌛ Approval expired: {summary}\nAction: {p.get('action')} ({p.get('outcome')})"
        rows = []
    return [Notice(_text(text, rows=rows), _story(event))]


_RENDERERS: dict[str, Callable[[TimelineEvent, NoticeContext], list[Notice]]] = {
    "phase started": _phase_started,
    "phase passed": _phase_passed,
    "phase refused": _phase_refused,
    "task_blocked": _blocked,
    "story_done": _line("🏁 Story done.", in_thread=True),
    "suggest_fix": _line("🛠️ Fix suggested by {actor}: {hint}", in_thread=True),
    "skip_task": _line("⏭️ Task skipped by {actor}.", in_thread=True),
    "epic": _proposals,
    "stories proposed": _proposals,
    "sprint start": _line("🏃 Sprint {sprint_id} started with {story_ids} stories."),
    "sprint pause": _line("⏸️ Sprint paused by {actor}."),
    "sprint resume": _line("▶️ Sprint resumed by {actor}."),
    "sprint_completed": _line("🎯 Every sprint story is finished; the sprint review follows."),
    "sprint review": _review,
    "feedback": _line("📋 Sprint {sprint_id} closed by {actor}."),
    "request_changes": _line("📋 Sprint {sprint_id} closed by {actor} with changes requested."),
    "approval reminder": _deadline,
    "approval expired": _deadline,
}
