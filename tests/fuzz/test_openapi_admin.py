"""Schemathesis as an admin (every route reachable) with valid requests: no 5xx, and every
status, content type and body is one the OpenAPI document declares for that operation; the
store is intact afterwards. `test_openapi_more` runs every command, invalid requests and a viewer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import schemathesis
from schemathesis import GenerationMode

from shared.domain.commands import Role
from shared.state.store import Store
from tests.fuzz.integrity import check_store
from tests.fuzz.live_api import LiveApi
from tests.fuzz.openapi_fuzz import Fuzzer
from tests.fuzz.world import World
from tests.integration.api_fixtures import ServerErrors, Tokens

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EXAMPLES = 40  # per operation: ~1,200 cases (an operation without parameters has fewer)


@pytest.mark.timeout(300)
async def test_every_operation_as_admin(
    world: World,
    live_api: LiveApi,
    tokens: Tokens,
    server_errors: ServerErrors,
    store: Store,
    record_property: Callable[[str, object], None],
) -> None:
    schema = schemathesis.openapi.from_url(f"{live_api.url}/openapi.json")
    auth = tokens.auth(Role.ADMIN, subject="fuzz-admin")
    fuzzer = Fuzzer(schema, live_api.url, auth, world)
    operations = fuzzer.operations()

    report = await asyncio.to_thread(fuzzer.run, GenerationMode.POSITIVE, EXAMPLES, operations)
    record_property("cases", report.total)

    assert not report.findings, f"{report.describe()}\nserver errors: {server_errors.describe()}"
    assert report.total >= 1_100, report.cases
    # the cases reached the handlers: writes succeeded and were refused by the workflow
    assert {"POST /api/v1/projects/{project_id}/epics"} <= report.reached(201)
    assert {"DELETE /api/v1/projects/{project_id}/stories/{story_id}"} <= report.reached(200)
    assert {"POST /api/v1/projects/{project_id}/sprints"} <= report.reached(409)
    assert await check_store(store) > 0
