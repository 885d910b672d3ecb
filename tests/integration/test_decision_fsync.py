"""Decisions are acknowledged only once WAITAOF confirms the append-only file holds them.

Against a private valkey with `--appendonly yes --appendfsync everysec` (the production
contract). `appendfsync no` never confirms an fsync, so WAITAOF times out: that is how a slow
disk is played here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from services.api.app import create_app
from services.api.board.decide import Decision, decide
from services.api.board.session import BoardUser
from services.api.commanding import Commands
from shared.domain.commands import Role
from shared.domain.models import Approval, ApprovalStatus, ScrumState
from shared.jobs.queue import create_queue
from shared.platform.auth import mint_token
from shared.platform.embedded_redis import EmbeddedRedis
from shared.platform.redis import create_redis
from shared.platform.settings import Settings, load_settings
from shared.state import aof, keys
from shared.state.store import Store
from shared.workflow.context import Limits
from shared.workflow.decisions import DecisionNotDurable
from tests.factories import APPROVER, make_project_in_state, proposed_ids, run

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

QUICK = Limits(max_concurrent_projects=1_000, decision_fsync_timeout_ms=200)


@pytest.fixture
def aof_server(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis(tmp_path / "redis", appendonly=True) as server:
        yield server


@pytest.fixture
async def aof_redis(aof_server: EmbeddedRedis) -> AsyncIterator[Redis]:
    client = create_redis(aof_server.url, "awf-test-aof")
    try:
        yield client
    finally:
        await client.aclose()


async def pending_one(store: Store) -> tuple[str, str]:
    """A project in BACKLOG_READY with one proposal still waiting: (project id, story id)."""
    pid = await make_project_in_state(store, ScrumState.BACKLOG_READY)
    return pid, (await proposed_ids(store, pid))[0]


async def approval_status(store: Store, pid: str, story_id: str) -> ApprovalStatus:
    for key in await store.redis.keys(keys.entity(pid, "approval", "*")):
        approval = await store.get(Approval, key)
        if approval is not None and approval.subject_id == story_id:
            return approval.status
    raise AssertionError(f"no approval for {story_id}")


async def test_a_decision_is_answered_once_the_aof_is_fsynced(aof_redis: Redis) -> None:
    store = Store(aof_redis)
    pid, story = await pending_one(store)
    outcome = await run(store, "approve", {"ids": [story]}, project_id=pid, actor=APPROVER)
    assert outcome.result
    assert await approval_status(store, pid, story) is ApprovalStatus.APPROVED
    assert await aof_redis.keys(keys.fsync_mark(pid, "*")) == []  # each mark deleted on confirm


async def test_an_unconfirmed_fsync_is_a_503_and_the_retry_answers_the_same(
    aof_redis: Redis,
) -> None:
    store = Store(aof_redis)
    pid, story = await pending_one(store)
    await aof_redis.config_set("appendfsync", "no")  # WAITAOF can no longer confirm
    with pytest.raises(DecisionNotDurable) as refused:
        await run(
            store, "approve", {"ids": [story]}, project_id=pid, actor=APPROVER,
            idempotency_key="k1", limits=QUICK,
        )  # fmt: skip
    assert refused.value.status_code == 503
    assert refused.value.details["retry_after_s"] >= 1
    assert "not acknowledged" in refused.value.message
    assert await approval_status(store, pid, story) is ApprovalStatus.APPROVED  # stored
    first = refused.value.outcome
    await aof_redis.config_set("appendfsync", "everysec")
    retried = await run(
        store, "approve", {"ids": [story]}, project_id=pid, actor=APPROVER,
        idempotency_key="k1", limits=QUICK,
    )  # fmt: skip
    assert retried.replayed
    assert (retried.result, retried.project_version) == (first.result, first.project_version)


async def test_non_decisions_do_not_wait_for_the_fsync(aof_redis: Redis) -> None:
    store = Store(aof_redis)
    pid, _ = await pending_one(store)
    await aof_redis.config_set("appendfsync", "no")
    await run(store, "backlog add_story", {"title": "x"}, project_id=pid, limits=QUICK)


async def test_a_mark_missing_from_the_server_is_not_confirmed(aof_redis: Redis) -> None:
    """What a retry finds on a server restarted without the decision: it is not acknowledged."""
    verdict = await aof.confirm(aof_redis, "p-gone", "no-such-token", 500)
    assert verdict is aof.Fsync.NOT_CONFIRMED


async def test_without_appendonly_decisions_do_not_wait(redis: Redis) -> None:
    store = Store(redis)
    pid, story = await pending_one(store)
    token = "t"
    await redis.set(keys.fsync_mark(pid, token), "1")
    assert await aof.confirm(redis, pid, token, 100) is aof.Fsync.AOF_OFF
    await run(store, "approve", {"ids": [story]}, project_id=pid, actor=APPROVER, limits=QUICK)


def test_a_server_without_waitaof_is_remembered() -> None:
    client = create_redis("redis://127.0.0.1:1/0", "never-connected")
    unknown = ResponseError("unknown command 'WAITAOF', with args beginning with: '1'")
    assert aof._verdict(client, 1, unknown) is aof.Fsync.UNSUPPORTED
    assert aof._without_waitaof.get(client) is True


@pytest.fixture
def aof_settings(aof_server: EmbeddedRedis, tmp_path: Path) -> Settings:
    config = tmp_path / "config.yml"
    config.write_text("{}\n")
    return load_settings(config, awf_env="test", redis_url=aof_server.url)


async def test_the_api_answers_503_with_retry_after(
    aof_settings: Settings, aof_redis: Redis
) -> None:
    store = Store(aof_redis)
    pid, story = await pending_one(store)
    app = create_app(aof_settings)
    secret = aof_settings.jwt_secret.get_secret_value()
    auth = {
        "Authorization": f"Bearer {mint_token(secret, 'paula', Role.APPROVER, timedelta(hours=1))}"
    }
    await aof_redis.config_set("appendfsync", "no")
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            url = f"/api/v1/projects/{pid}/commands"
            body = {"command": "approve", "args": {"ids": [story]}}
            headers = {**auth, "Idempotency-Key": "once"}
            refused = await http.post(url, json=body, headers=headers)
            assert refused.status_code == 503, refused.text
            assert refused.headers["Retry-After"] == "1"
            assert refused.json()["type"] == "not_durable"
            await aof_redis.config_set("appendfsync", "everysec")
            retried = await http.post(url, json=body, headers=headers)
    assert retried.status_code == 200, retried.text
    assert retried.headers["Idempotent-Replayed"] == "true"


async def test_a_board_decision_not_yet_on_disk_says_so_and_pressing_again_confirms_it(
    aof_server: EmbeddedRedis, aof_redis: Redis
) -> None:
    store = Store(aof_redis)
    pid, story = await pending_one(store)
    found = await store.get_many(Approval, await aof_redis.keys(keys.entity(pid, "approval", "*")))
    approval_id = next(a.id for a in found if a is not None and a.subject_id == story)
    queue = await create_queue(aof_server.url)
    try:
        commands = Commands(store, QUICK, queue)
        user = BoardUser("paula", Role.APPROVER, csrf="")
        pressed = Decision(pid, approval_id, "approve", version=1, reason="", form_key="form-1")
        await aof_redis.config_set("appendfsync", "no")
        unconfirmed = await decide(commands, store, user, pressed)
        await aof_redis.config_set("appendfsync", "everysec")
        confirmed = await decide(commands, store, user, pressed)  # the same form, pressed again
    finally:
        await queue.aclose()
    assert (unconfirmed.ok, unconfirmed.status_code) == (False, 503)
    assert unconfirmed.message.startswith("Recorded as approved, but the store has not yet")
    assert (confirmed.ok, confirmed.message) == (True, f"Approved {approval_id}.")
    assert await approval_status(store, pid, story) is ApprovalStatus.APPROVED
