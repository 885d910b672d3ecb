"""`Stack`: Redis and N API replicas as processes, ready together, stopped together."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from services.cli.processes import free_port_block
from services.cli.session import pid_alive
from services.cli.stack import Stack, StackError, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.mark.timeout(120)
def test_replicas_answer_and_stop_with_redis(tmp_path: Path) -> None:
    stack = Stack(
        tmp_path, port=free_port_block(2), replicas=2, appendonly=False, env={"AWF_ENV": "dev"}
    )
    with stack:
        assert len(stack.api_urls) == 2
        pids = list(stack.pids.values())
        assert len(pids) == 3
        headers = {"Authorization": f"Bearer {stack.admin_token()}"}
        for url in stack.api_urls:
            assert httpx.get(f"{url}/readyz").json() == {"status": "ready"}
            listing = httpx.post(
                f"{url}/api/v1/commands",
                json={"command": "project list", "args": {}},
                headers=headers,
            )
            assert listing.status_code == 200, listing.text
    assert [p for p in pids if pid_alive(p)] == []


@pytest.mark.timeout(120)
def test_a_child_that_cannot_start_is_reported_with_its_output(tmp_path: Path) -> None:
    stack = Stack(
        tmp_path,
        port=free_port(),
        appendonly=False,
        env={"AWF_ENV": "production", "ENCRYPTION_KEY": ""},
    )
    with pytest.raises(StackError, match="ENCRYPTION_KEY"):
        stack.start()
    assert stack.redis is not None
    assert stack.redis.pid is None
    assert stack.dead() == stack.apis
