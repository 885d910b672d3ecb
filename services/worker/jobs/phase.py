"""run_phase: one attempt of one TDD phase, fenced, heartbeated, judged on evidence."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any

import structlog
from arq import Retry

from services.worker.deps import WorkerDeps, deps
from services.worker.drain import draining
from services.worker.phases import PhaseRunner
from services.worker.retrying import retry_later
from shared.agents.loop import ProviderUnavailable
from shared.domain.evidence import PhaseEvidence
from shared.domain.models import Project, Story
from shared.domain.tdd import CycleStatus, TDDCycle
from shared.jobs.queue import enqueue_all
from shared.state import keys, slots, timeline
from shared.state.timeline import TimelineEvent
from shared.workflow import cycles
from shared.workflow.cycles import FencedOut, PhaseOutcome

__all__ = ["run_phase"]

log = structlog.get_logger("worker.phase")
_SLOT_WAIT_S = 2.0
_WATCH_S = 1.0
_PAUSED = "paused"
_DRAINING = "draining"
_WORK_DONE = "work done"
_HANDOVER_REASON = "its worker is shutting down; another worker takes the phase"


@dataclass
class _Progress:
    """How far the attempt is: once it commits, it is finished rather than handed over."""

    committing: bool = False

    def commit_started(self) -> None:
        self.committing = True


async def run_phase(ctx: dict[str, Any], project_id: str, cycle_id: str, run: int) -> str:
    d = deps(ctx)
    holder = slots.cycle_holder(cycle_id, run)
    if not await _acquire(d, project_id, holder):
        raise Retry(defer=_SLOT_WAIT_S)
    try:
        cycle = await cycles.take(d.store, project_id, cycle_id, run)
        if cycle is None:
            return "not its turn"
        with structlog.contextvars.bound_contextvars(
            project_id=project_id, story_id=cycle.story_id, phase=cycle.phase.value, run=run
        ):
            return await _run_fenced(d, ctx, cycle)
    finally:
        await _release(d, project_id, holder)


async def _run_fenced(d: WorkerDeps, ctx: dict[str, Any], cycle: TDDCycle) -> str:
    progress = _Progress()
    work = asyncio.create_task(_attempt(d, cycle, progress))
    beat = asyncio.create_task(_heartbeat(d, cycle, work, draining(ctx), progress))
    try:
        outcome = await work
    except FencedOut:
        log.warning("phase_fenced_out_before_push")
        return "fenced out"
    except asyncio.CancelledError:
        work.cancel()
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # arq's job timeout or shutdown: the scheduler retakes the phase
        return await _stopped(d, cycle, beat)
    except ProviderUnavailable as exc:
        await cycles.give_back(d.store, cycle)
        raise retry_later(ctx, exc) from exc
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
    try:
        jobs = await cycles.record(d.store, cycle, outcome, d.settings.budgets.caps())
    except FencedOut:
        log.warning("phase_fenced_out")
        return "fenced out"
    await enqueue_all(d.queue, jobs)
    return "passed" if outcome.evidence.gate_passed else "refused"


async def _stopped(d: WorkerDeps, cycle: TDDCycle, beat: asyncio.Task[str]) -> str:
    """The heartbeat stopped the work: the worker drains, the cycle was paused, or the lease
    was lost."""
    why = beat.result() if beat.done() and not beat.cancelled() else None
    if why == _DRAINING:
        job = await cycles.hand_over(d.store, cycle, _HANDOVER_REASON)
        await enqueue_all(d.queue, [job] if job else [])
        log.info("phase_handed_over", queued=job is not None)
        return "handed over"
    if why == _PAUSED:
        await cycles.give_back(d.store, cycle)  # not an attempt; /tdd resume queues it
        log.info("phase_stopped_paused")
        return "paused"
    log.warning("phase_lease_lost")
    return "lease lost"


async def _attempt(d: WorkerDeps, cycle: TDDCycle, progress: _Progress) -> PhaseOutcome:
    project = await d.store.get(Project, keys.project(cycle.project_id))
    story = await d.store.get(Story, keys.entity(cycle.project_id, "story", cycle.story_id))
    if project is None or story is None:
        raise FencedOut("The project or story disappeared.")
    runner = _runner(d)

    async def on_tool(record: dict[str, Any]) -> None:
        event = TimelineEvent(
            actor=f"agent:{record.get('role', '?')}", command="tool", payload=record
        )
        await timeline.publish(d.store.redis, cycle.project_id, event)

    async def still_ours() -> None:
        current = await d.store.get(TDDCycle, cycles.cycle_key(cycle.project_id, cycle.id))
        if current is None or current.fence != cycle.fence:
            raise FencedOut(f"Cycle {cycle.id} was retaken; this job's commit is not pushed.")

    try:
        return await runner.run(
            project, story, cycle, on_tool, still_ours, on_commit=progress.commit_started
        )
    except FencedOut:
        raise
    except (ProviderUnavailable, asyncio.CancelledError):
        raise
    except Exception as exc:  # our own failure: recorded as a refused attempt, never retried blind
        log.exception("phase_error")
        reason = f"Orchestrator error during {cycle.phase.value}: {type(exc).__name__}: {exc}"
        evidence = PhaseEvidence(
            phase=cycle.phase.value,
            attempt=cycle.attempt(),
            gate_passed=False,
            gate_reason=reason[:2_000],
        )
        return PhaseOutcome(evidence=evidence)


def _runner(d: WorkerDeps) -> PhaseRunner:
    agents = d.settings.agents
    return PhaseRunner(
        d.client,
        agents.claude_model,
        d.test_limits,
        agents.max_turns,
        agents.price_input_per_mtok,
        agents.price_output_per_mtok,
        d.store,
        agents.context_tokens,
        mirrors=d.mirrors,
    )


async def _heartbeat(
    d: WorkerDeps,
    cycle: TDDCycle,
    work: asyncio.Task[PhaseOutcome],
    drain: asyncio.Event,
    progress: _Progress,
) -> str:
    """Renew the leases and watch for /tdd pause and the worker draining; stop the work when
    one says so (a draining worker lets a committing phase finish)."""
    holder, redis = slots.cycle_holder(cycle.id, cycle.run), d.store.redis
    key = cycles.cycle_key(cycle.project_id, cycle.id)
    while not work.done():  # also ends the beat should a cancellation of it ever be lost
        if drain.is_set() and not progress.committing:
            work.cancel()
            return _DRAINING
        await _sleep_or_drain(drain, min(d.lease_ms / 3000, _WATCH_S))
        kept = await slots.renew(redis, keys.slots(cycle.project_id), holder, d.lease_ms)
        kept = kept and await slots.renew(redis, keys.AGENT_SLOTS, holder, d.lease_ms)
        current = await d.store.get(TDDCycle, key)
        paused = current is not None and current.status is CycleStatus.PAUSED
        if not kept or paused:
            work.cancel()
            return _PAUSED if kept else "lease lost"
    return _WORK_DONE


async def _sleep_or_drain(flag: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or until ``flag`` is set (when it is not already)."""
    if flag.is_set():
        await asyncio.sleep(seconds)
        return
    # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation that lands in
    # the same tick as the inner wait ends (CPython gh-86296), leaving the task running for good
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await flag.wait()


async def _acquire(d: WorkerDeps, project_id: str, holder: str) -> bool:
    orch = d.settings.orchestrator
    redis = d.store.redis
    if not await slots.acquire(redis, keys.AGENT_SLOTS, holder, d.lease_ms, orch.max_total_agents):
        return False
    if await slots.acquire(
        redis, keys.slots(project_id), holder, d.lease_ms, orch.max_parallel_cycles
    ):
        return True
    await slots.release(redis, keys.AGENT_SLOTS, holder)
    return False


async def _release(d: WorkerDeps, project_id: str, holder: str) -> None:
    await slots.release(d.store.redis, keys.slots(project_id), holder)
    await slots.release(d.store.redis, keys.AGENT_SLOTS, holder)
