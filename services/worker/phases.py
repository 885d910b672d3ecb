"""Run one TDD phase of one story in a fresh clone, then judge it on evidence we record.

The agent works through checked tools; afterwards the orchestrator itself lists what changed,
runs the test command, applies the phase's gate, and only then commits and pushes the branch.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.agents.loop import AgentRun, run_agent
from shared.agents.mirrors import MirrorCache
from shared.agents.roles import ROLE_BY_PHASE, ROLES, Phase, is_docs_path, is_test_path
from shared.agents.task import AgentTask, StoryBrief, render_task
from shared.agents.testrunner import TestLimits, run_tests
from shared.agents.tool_specs import tool_params
from shared.agents.tools import ToolContext, execute_tool
from shared.agents.workspace import Workspace
from shared.domain import gates
from shared.domain.budgets import model_cost_usd
from shared.domain.evidence import PhaseEvidence, TestRun
from shared.domain.models import ProjectMode
from shared.observability import metrics
from shared.workflow.context_build import build_context
from shared.workflow.cycles import PhaseOutcome, pending_ref

if TYPE_CHECKING:
    import anthropic

    from shared.domain.models import Project, Story
    from shared.domain.tdd import TDDCycle
    from shared.state.store import Store

__all__ = ["PhaseRunner", "design_note_path"]

ToolListener = Callable[[dict[str, Any]], Awaitable[None]]
Guard = Callable[[], Awaitable[None]]


def _no_op() -> None:
    return None


def design_note_path(story_id: str) -> str:
    return f"docs/design/{story_id}.md"


@dataclass(frozen=True)
class PhaseRunner:
    client: anthropic.AsyncAnthropic
    model: str
    test_limits: TestLimits
    max_turns: int = 20
    price_in_per_mtok: float = 3.0
    price_out_per_mtok: float = 15.0
    store: Store | None = None  # for the repository context and its cache
    context_tokens: int = 12_000
    mirrors: MirrorCache = field(kw_only=True)  # the worker's, shared by its phases

    async def run(
        self,
        project: Project,
        story: Story,
        cycle: TDDCycle,
        on_tool: ToolListener,
        before_push: Guard,
        on_commit: Callable[[], None] = _no_op,
    ) -> PhaseOutcome:
        checkout = self.mirrors.workspace(project.repo_url, cycle.branch, project.default_branch)
        async with checkout as ws:  # a clone from the worker's mirror, deleted afterwards
            if cycle.approved_sha:  # blocking mode: the human approved the last phase's result
                await before_push()
                ws = await ws.adopt(cycle.approved_sha, pending_ref(story.id))
            agent = None
            if cycle.phase is not Phase.COMMIT:
                agent = await self._agent(ws, project, story, cycle, on_tool)
            outcome = await self._judge(ws, project, story, cycle, before_push, on_commit)
            if agent is not None:
                self._account(outcome, agent)
            return outcome

    async def _agent(
        self, ws: Workspace, project: Project, story: Story, cycle: TDDCycle, on_tool: ToolListener
    ) -> AgentRun:
        role = ROLES[ROLE_BY_PHASE[cycle.phase]]
        ctx = ToolContext(
            root=ws.root, role=role, test_command=project.test_command, test_limits=self.test_limits
        )

        async def run_tool(name: str, raw: object) -> tuple[str, bool, dict[str, Any]]:
            result = await execute_tool(ctx, name, raw)
            await on_tool({**result.record, "phase": cycle.phase.value, "story_id": story.id})
            return result.content, result.is_error, result.record

        task = _task(project, story, cycle)
        context = await self._context(ws, project, story, cycle)
        return await run_agent(
            self.client,
            model=self.model,
            system=_system(role.name),
            task=render_task(task, _instructions(cycle.phase, story)) + context,
            tools=tool_params(role.tools),
            run_tool=run_tool,
            max_turns=self.max_turns,
            agent_type=role.name.value,
        )

    async def _context(self, ws: Workspace, project: Project, story: Story, cycle: TDDCycle) -> str:
        """The repository as the agent first sees it, within the token budget (after the task:
        file contents must not be mistaken for the task block)."""
        if self.store is None:
            return ""
        block = await build_context(
            self.store,
            project.id,
            story,
            cycle.phase,
            ws.root,
            self.context_tokens,
            red_test_ids=cycle.red_test_ids,
        )
        return f"\n\n{block}" if block else ""

    async def _judge(
        self,
        ws: Workspace,
        project: Project,
        story: Story,
        cycle: TDDCycle,
        before_push: Guard,
        on_commit: Callable[[], None],
    ) -> PhaseOutcome:
        changed = await ws.changed_files(ws.base)
        phase, attempt = cycle.phase, cycle.attempt()
        run = (
            None
            if phase is Phase.DESIGN
            else await run_tests(ws.root, project.test_command, limits=self.test_limits)
        )
        digests = ws.file_digests(_test_files(ws.root))
        gate = _gate(phase, cycle, story, changed, run, digests)
        if phase is Phase.COMMIT:
            clean = await ws.is_clean()
            gate = gates.gate_commit(_require(run), clean, cycle.branch, project.default_branch)
        sha = pending = None
        if gate.passed and phase is not Phase.COMMIT:
            on_commit()
            sha = await ws.commit(f"{story.id}: {phase.value} - {story.title} (attempt {attempt})")
            await before_push()  # a retaken phase's stale job must not push
            if project.mode is ProjectMode.BLOCKING:
                pending = sha or ws.base
                await ws.push_pending(pending_ref(story.id), pending)
            elif sha:
                await ws.push()
        head = sha or ws.base  # what the remote has of this phase (nothing else was pushed)
        evidence = PhaseEvidence(
            phase=phase.value,
            attempt=attempt,
            test_run=run,
            changed_files=changed,
            test_file_digests=digests,
            commit_sha=sha or (head if phase is Phase.COMMIT else None),
            gate_passed=gate.passed,
            gate_reason=gate.reason,
        )
        return PhaseOutcome(
            evidence=evidence,
            head_sha=head if gate.passed else None,
            red_test_ids=gate.red_test_ids,
            test_file_digests=digests if phase is Phase.TEST_RED and gate.passed else None,
            design_note_path=design_note_path(story.id) if phase is Phase.DESIGN else None,
            pending_sha=pending,
        )

    def _account(self, outcome: PhaseOutcome, agent: AgentRun) -> None:
        outcome.input_tokens = agent.input_tokens
        outcome.output_tokens = agent.output_tokens
        outcome.cost_usd = model_cost_usd(
            agent.input_tokens, agent.output_tokens, self.price_in_per_mtok, self.price_out_per_mtok
        )
        metrics.AGENT_COST.labels(agent.agent_type).inc(outcome.cost_usd)
        criteria = agent.structured.get("set_acceptance_criteria", {}).get("criteria")
        if outcome.evidence.gate_passed and isinstance(criteria, list):
            outcome.acceptance_criteria = [str(c) for c in criteria][:50]
        if agent.hit_max_turns and not outcome.evidence.gate_passed:
            reason = (
                f"The agent hit the {self.max_turns}-turn limit. {outcome.evidence.gate_reason}"
            )
            outcome.evidence = outcome.evidence.model_copy(update={"gate_reason": reason})


def _gate(
    phase: Phase,
    cycle: TDDCycle,
    story: Story,
    changed: list[str],
    run: TestRun | None,
    digests: dict[str, str],
) -> gates.GateResult:
    tests_changed = gates.changed_test_files(cycle.test_file_digests, digests)
    if phase is Phase.DESIGN:
        non_docs = [f for f in changed if not is_docs_path(f)]
        return gates.gate_design(changed, design_note_path(story.id), non_docs)
    if phase is Phase.TEST_RED:
        changed_tests = [f for f in changed if is_test_path(f)]
        changed_other = [f for f in changed if not is_test_path(f)]
        return gates.gate_red(_require(run), changed_tests, changed_other)
    if phase is Phase.CODE_GREEN:
        return gates.gate_green(_require(run), cycle.red_test_ids, tests_changed)
    if phase is Phase.REFACTOR:
        return gates.gate_refactor(_require(run), tests_changed)
    return gates.GateResult(True, "")


def _require(run: TestRun | None) -> TestRun:
    if run is None:
        raise RuntimeError("this phase needs a test run")
    return run


def _test_files(root: Path) -> list[str]:
    files = (p.relative_to(root).as_posix() for p in root.rglob("*.py") if p.is_file())
    return sorted(f for f in files if not f.startswith(".git/") and is_test_path(f))


def _task(project: Project, story: Story, cycle: TDDCycle) -> AgentTask:
    brief = StoryBrief(
        id=story.id,
        title=story.title,
        description=story.description,
        acceptance_criteria=story.acceptance_criteria,
    )
    return AgentTask(
        role=ROLE_BY_PHASE[cycle.phase],
        project_id=project.id,
        phase=cycle.phase,
        story=brief,
        attempt=cycle.attempt(),
        hint=cycle.hint,
        refusal=cycle.last_refusal,
        design_note_path=design_note_path(story.id),
        red_test_ids=cycle.red_test_ids,
    )


def _system(role: Any) -> str:
    spec = ROLES[role]
    return (
        f"You are the {spec.name.value} agent of a strict test-driven development team. "
        f"{spec.purpose} You {spec.write_rule}. Work only through the tools. The "
        "orchestrator checks your work on evidence it records itself: it runs the tests and "
        "refuses the phase when its gate fails."
    )


_INSTRUCTIONS = {
    Phase.DESIGN: "Write the design note at {note}. Refine the acceptance criteria with "
    "set_acceptance_criteria if they are not testable as written.",
    Phase.TEST_RED: "Write tests for every acceptance criterion of '{title}'. They must fail "
    "now, by assertion.",
    Phase.CODE_GREEN: "Make these failing tests pass without changing any test: {red}.",
    Phase.REFACTOR: "Improve the code of '{title}' without changing behaviour; keep every test "
    "green; end with a short review of the diff.",
}


def _instructions(phase: Phase, story: Story) -> str:
    text = _INSTRUCTIONS.get(phase, "")
    return text.format(note=design_note_path(story.id), title=story.title, red="see task")
