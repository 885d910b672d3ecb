"""A separate OS process adding stories to one project: `python -m tests.integration.add_stories_worker`.

Arguments: REDIS_URL PROJECT_ID COUNT BARRIER_KEY PARTIES. Every worker announces itself on the
barrier key (INCR) and starts only when all PARTIES have, so the writes really overlap.
Prints one line, the number of stories it added.
"""

from __future__ import annotations

import asyncio
import sys
import time

from shared.domain.commands import Role
from shared.platform.redis import create_redis
from shared.state.store import Store
from shared.workflow.context import Actor, CommandRequest, Limits
from shared.workflow.executor import execute

_BARRIER_TIMEOUT_S = 20.0


async def main(url: str, project_id: str, count: int, barrier: str, parties: int) -> int:
    redis = create_redis(url, f"awf-test-worker-{project_id}")
    try:
        await redis.incr(barrier)
        deadline = time.monotonic() + _BARRIER_TIMEOUT_S
        while int(await redis.get(barrier) or 0) < parties:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {await redis.get(barrier)} of {parties} workers arrived")
            await asyncio.sleep(0.005)
        store = Store(redis)
        actor = Actor(f"worker-{project_id}", Role.MEMBER)
        for n in range(count):
            request = CommandRequest(
                "backlog add_story", {"title": f"from a process #{n}"}, actor, project_id
            )
            await execute(store, request, Limits())
        return count
    finally:
        await redis.aclose()


if __name__ == "__main__":
    url, project_id, count, barrier, parties = sys.argv[1:6]
    added = asyncio.run(main(url, project_id, int(count), barrier, int(parties)))
    sys.stdout.write(f"{added}\n")
