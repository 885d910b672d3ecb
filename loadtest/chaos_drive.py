"""The users of the Redis-kill scenario, over HTTP: a sprint project in blocking mode whose parked
phase results and merge get approved as they come, and a side project that receives a steady
stream of decisions (approve / reject of its proposals) and of plain writes (backlog stories).

Every acknowledged answer is journaled with its Idempotency-Key, so afterwards each decision is
sent again: an intact one replays its first answer.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from loadtest.chaos_http import API, Answer, Kind, Tally, command, idempotency_key, send

__all__ = ["SIDE", "SPRINT", "Ack", "Journal", "Users"]

SPRINT, SIDE = "chaos-sprint", "chaos-side"
_SIDE_STORIES = 100  # an epic holds at most 100 proposals
_APPROVE_EVERY_S = 0.5


@dataclass(frozen=True)
class Ack:
    """An acknowledged decision: what was sent, under which key, and what it answered."""

    url: str
    body: dict[str, Any]
    key: str
    result: dict[str, Any]
    answered_at: float


@dataclass
class Journal:
    tally: Tally = field(default_factory=Tally)
    decisions: list[Ack] = field(default_factory=list)
    writes: list[tuple[str, float]] = field(default_factory=list)  # story id, answered at
    ok_at: list[float] = field(default_factory=list)  # when each 2xx arrived
    not_durable: int = 0  # 503s: a decision stored whose fsync was not confirmed
    decision_ms: list[float] = field(default_factory=list)  # acknowledged decisions' latency
    write_ms: list[float] = field(default_factory=list)  # acknowledged plain writes' latency


@dataclass
class Users:
    http: httpx.AsyncClient
    journal: Journal = field(default_factory=Journal)
    proposals: list[str] = field(default_factory=list)

    async def post(self, url: str, body: dict[str, Any], key: str | None = None) -> Answer:
        answer = self.journal.tally.add(await send(self.http, "POST", url, json=body, key=key))
        if answer.ok:
            self.journal.ok_at.append(answer.answered_at)
        elif answer.body.get("type") == "not_durable":
            self.journal.not_durable += 1
        return answer

    async def decide(self, project: str, body: dict[str, Any]) -> Answer:
        url, key = f"{API}/projects/{project}/commands", idempotency_key()
        answer = await self.post(url, body, key)
        if answer.ok:  # nothing to decide is a 409: a 2xx decided something
            self.journal.decision_ms.append((answer.answered_at - answer.sent_at) * 1000)
            ack = Ack(url, body, key, answer.body["result"], answer.answered_at)
            self.journal.decisions.append(ack)
        return answer

    async def setup(self, repo: Path) -> None:
        """Both projects registered and started; the sprint running; the side's proposals."""
        for pid, repo_url, mode in (
            (SPRINT, str(repo), "blocking"),
            (SIDE, "/srv/git/side.git", "partial"),
        ):
            await self._must(
                f"{API}/commands",
                command("project register", {"repo_url": repo_url, "id": pid, "mode": mode}),
            )
            await self._must(f"{API}/commands", command("project start", {"project": pid}))
        sprint_url = f"{API}/projects/{SPRINT}/commands"
        epic = {"description": "Add", "stories": [{"title": "Add two numbers"}]}
        story = (await self._must(sprint_url, command("epic", epic)))["proposed_story_ids"]
        await self._must_decide(SPRINT, command("approve", {"ids": story}))
        await self._must(sprint_url, command("sprint plan", {"story_ids": story, "goal": "add"}))
        await self._must(sprint_url, command("sprint start"))
        stories = [{"title": f"Side story {n}"} for n in range(_SIDE_STORIES)]
        side = command("epic", {"description": "Side decisions", "stories": stories})
        self.proposals = (await self._must(f"{API}/projects/{SIDE}/commands", side))["proposed_story_ids"]  # fmt: skip

    async def decisions(self, rate: float, stop: asyncio.Event) -> None:
        """Approve or reject the next side proposal, `rate` times a second."""
        for n, story in enumerate(self.proposals):
            if stop.is_set():
                return
            if n % 2:
                body = command("reject", {"ids": [story], "reason": "chaos"})
            else:
                body = command("approve", {"ids": [story]})
            await _paced(self.decide(SIDE, body), 1 / rate)

    async def writes(self, rate: float, stop: asyncio.Event) -> None:
        """Add a side backlog story `rate` times a second (a plain, non-decision write)."""
        url = f"{API}/projects/{SIDE}/commands"
        for n in itertools.count():
            if stop.is_set():
                return
            body = command("backlog add_story", {"title": f"Write {n}"})
            answer = await _paced(self.post(url, body, idempotency_key()), 1 / rate)
            if answer.ok:
                self.journal.writes.append((answer.body["result"]["story_id"], answer.answered_at))
                self.journal.write_ms.append((answer.answered_at - answer.sent_at) * 1000)

    async def approve_sprint(self, stop: asyncio.Event) -> None:
        """Approve whatever the sprint parks for a human (phase results, the merge)."""
        while not stop.is_set():
            await _paced(self.decide(SPRINT, command("approve")), _APPROVE_EVERY_S)

    async def state_of(self, project: str = SPRINT) -> str | None:
        """The project's Scrum state; None while the API cannot answer."""
        answer = await send(self.http, "GET", f"{API}/projects/{project}/state")
        return str(answer.body.get("to_state")) if answer.ok else None

    async def replay(self, ack: Ack) -> bool:
        """The decision is intact: the same request with its key replays its first answer."""
        answer = await send(self.http, "POST", ack.url, json=ack.body, key=ack.key)
        return answer.ok and answer.replayed and answer.body["result"] == ack.result

    async def _must(self, url: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = await self.post(url, body, idempotency_key())
        if not answer.ok:
            raise RuntimeError(
                f"chaos setup: {body['command']} answered {answer.status} {answer.body}"
            )
        result: dict[str, Any] = answer.body["result"]
        return result

    async def _must_decide(self, project: str, body: dict[str, Any]) -> None:
        answer = await self.decide(project, body)
        if answer.kind is not Kind.OK:
            raise RuntimeError(
                f"chaos setup: {body['command']} answered {answer.status} {answer.body}"
            )


async def _paced(call: Any, interval_s: float) -> Answer:
    """Await `call`, then sleep out the rest of `interval_s` (a steady rate, never a burst)."""
    began = time.monotonic()
    answer: Answer = await call
    await asyncio.sleep(max(0.0, interval_s - (time.monotonic() - began)))
    return answer
