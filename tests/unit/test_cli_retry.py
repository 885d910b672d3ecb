"""The CLI sends a command answered 503 again, after Retry-After, with the same Idempotency-Key:
a decision whose fsync was unconfirmed (not_durable) or a Redis restart (store_unavailable)
gets its one result, and nothing is applied twice."""

from __future__ import annotations

import httpx
import pytest

from services.cli.client import ApiClient, ApiError
from shared.domain.commands import get_command


def answers(*statuses: int) -> tuple[list[httpx.Request], httpx.MockTransport]:
    seen: list[httpx.Request] = []
    queue = list(statuses)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        status = queue.pop(0)
        if status == 503:
            body = {"type": "not_durable", "message": "not on disk yet"}
            return httpx.Response(503, json=body, headers={"Retry-After": "0"})
        return httpx.Response(200, json={"command": "approve", "result": {"ok": True}})

    return seen, httpx.MockTransport(handler)


@pytest.fixture(autouse=True)
def _no_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("services.cli.client.time.sleep", lambda _s: None)


def test_a_503_is_sent_again_with_the_same_key() -> None:
    seen, transport = answers(503, 503, 200)
    approve = get_command("approve")
    assert approve is not None
    with ApiClient("http://api.test", "tok", transport=transport) as api:
        body = api.run(approve, {"ids": []}, project="calc")
    assert body["result"] == {"ok": True}
    keys = {r.headers["Idempotency-Key"] for r in seen}
    assert len(seen) == 3
    assert len(keys) == 1


def test_the_third_503_is_the_answer() -> None:
    seen, transport = answers(503, 503, 503)
    approve = get_command("approve")
    assert approve is not None
    with (
        ApiClient("http://api.test", "tok", transport=transport) as api,
        pytest.raises(ApiError) as err,
    ):
        api.run(approve, {"ids": []}, project="calc")
    assert err.value.status_code == 503
    assert err.value.error_type == "not_durable"
    assert err.value.retry_after_s == 0.0
    assert len(seen) == 3
