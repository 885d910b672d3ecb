"""Which `/tdd` steering command applies to a cycle in which status, and why not when not.

Pure: the handlers check a cycle against `STEERING` and raise with `refusal` when it does not fit.
"""

from __future__ import annotations

from types import MappingProxyType

from shared.domain.tdd import FINISHED, LIVE, MAX_ATTEMPTS, CycleStatus, TDDCycle

__all__ = ["INSPECTION", "STEERING", "commands_for", "fits", "parked", "refusal", "status_hint"]

_C = CycleStatus

STEERING = MappingProxyType(
    {
        "tdd pause": LIVE,
        "tdd resume": frozenset({_C.PAUSED}),
        "tdd abort": LIVE | {_C.PAUSED},
        # A running job would race the next phase on the branch; pause first, then skip.
        "tdd skip_phase": frozenset({_C.QUEUED, _C.WAITING, _C.PAUSED}),
        "tdd run_tests": frozenset({_C.QUEUED, _C.WAITING}),
    }
)
INSPECTION = ("tdd status", "tdd logs")
# A result parked for a human (blocking mode) is decided by /approve or /reject (which has the
# phase run again): re-running or skipping the phase would leave its approval pending forever.
_NOT_WHILE_PARKED = frozenset({"tdd skip_phase", "tdd run_tests"})


def parked(cycle: TDDCycle) -> bool:
    """Its phase passed the gate and the result waits for a human's /approve or /reject."""
    return cycle.waiting_for == "approval" and cycle.pending_sha is not None


def fits(command: str, cycle: TDDCycle) -> bool:
    if command in _NOT_WHILE_PARKED and parked(cycle):
        return False
    return cycle.status in STEERING[command]


def commands_for(cycle: TDDCycle) -> tuple[str, ...]:
    """The `/tdd` commands that act on `cycle` as it is now, inspection included."""
    steering = [name for name in STEERING if fits(name, cycle)]
    if cycle.status in FINISHED:
        steering.append("tdd start")
    if parked(cycle):
        steering += ["approve", "reject"]
    return (*steering, *INSPECTION)


def status_hint(cycle: TDDCycle) -> str:
    story, phase = cycle.story_id, cycle.phase.value
    hints = {
        _C.QUEUED: f"A job for {phase} is queued.",
        _C.RUNNING: (
            f"A job is running {phase} (attempt {cycle.attempt()} of {MAX_ATTEMPTS}); its gate "
            f"judges it when it ends. /tdd pause {story} stops the cycle there."
        ),
        _C.WAITING: (
            f"Its {phase} result passed the gate and waits for a human: /approve it, or "
            "/reject it with a reason to have the agent try again."
            if parked(cycle)
            else f"It waits to run {phase}."
        ),
        _C.PAUSED: f"Resume it with /tdd resume {story}.",
        _C.BLOCKED: (
            f"Its {phase} gate refused {MAX_ATTEMPTS} attempts; decide with /suggest_fix or "
            "/skip_task."
        ),
        _C.DONE: "It is finished.",
        _C.ABORTED: f"Start a new cycle with /tdd start {story}.",
    }
    return hints[cycle.status]


def refusal(command: str, cycle: TDDCycle) -> str:
    return (
        f"/{command} does not apply to the cycle of story {cycle.story_id}: it is "
        f"{cycle.status.value} in {cycle.phase.value}. {status_hint(cycle)}"
    )
