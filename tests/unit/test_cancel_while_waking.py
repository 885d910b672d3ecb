"""A cancellation that lands in the same tick as the awaited event is never lost.

On Python 3.11 `asyncio.wait_for` returns normally in that case (CPython gh-86296): a phase's
heartbeat then kept beating after its phase ended and the job never finished. These waits use
`asyncio.timeout`, which keeps the cancellation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from services.gateway.leader import _sleep_unless
from services.worker.jobs.phase import _sleep_or_drain

Wait = Callable[[asyncio.Event, float], Coroutine[Any, Any, None]]


@pytest.mark.parametrize("wait", [_sleep_or_drain, _sleep_unless])
async def test_a_cancel_with_the_event_set_in_the_same_tick_still_cancels(wait: Wait) -> None:
    event = asyncio.Event()
    sleeper = asyncio.create_task(wait(event, 30.0))
    await asyncio.sleep(0)  # the sleeper is now waiting on the event
    event.set()
    sleeper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sleeper
    assert sleeper.cancelled()


@pytest.mark.parametrize("wait", [_sleep_or_drain, _sleep_unless])
async def test_the_wait_still_ends_at_its_time_or_at_the_event(wait: Wait) -> None:
    event = asyncio.Event()
    await asyncio.wait_for(wait(event, 0.01), 5)  # times out quietly
    sleeper = asyncio.create_task(wait(event, 30.0))
    await asyncio.sleep(0)
    event.set()
    await asyncio.wait_for(sleeper, 5)
