"""Schemathesis, continued (see `test_openapi_admin`): every command of the generic command
endpoints with generated arguments, invalid requests of every operation, and a viewer, whose
requests are all held to the document too and change nothing stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import schemathesis
from schemathesis import GenerationMode

from shared.domain.commands import COMMANDS, Role
from shared.state.store import Store
from tests.factories import dump_project
from tests.fuzz.integrity import check_store
from tests.fuzz.live_api import LiveApi
from tests.fuzz.openapi_fuzz import Fuzzer
from tests.fuzz.world import World
from tests.integration.api_fixtures import ServerErrors, Tokens

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def fuzzer_for(live_api: LiveApi, tokens: Tokens, role: Role, world: World) -> Fuzzer:
    schema = schemathesis.openapi.from_url(f"{live_api.url}/openapi.json")
    auth = tokens.auth(role, subject=f"fuzz-{role.name.lower()}")
    return Fuzzer(schema, live_api.url, auth, world)


@pytest.mark.timeout(300)
async def test_every_command_and_invalid_requests_as_admin(
    world: World,
    live_api: LiveApi,
    tokens: Tokens,
    server_errors: ServerErrors,
    store: Store,
    record_property: Callable[[str, object], None],
) -> None:
    fuzzer = fuzzer_for(live_api, tokens, Role.ADMIN, world)
    commands = fuzzer.commands()
    assert len(commands) == len(COMMANDS)

    valid = await asyncio.to_thread(fuzzer.run, GenerationMode.POSITIVE, 12, commands)
    invalid = await asyncio.to_thread(fuzzer.run, GenerationMode.NEGATIVE, 12, fuzzer.operations())
    record_property("cases", valid.total + invalid.total)

    for report in (valid, invalid):
        assert not report.findings, (
            f"{report.describe()}\nserver errors: {server_errors.describe()}"
        )
    assert valid.total >= 600, valid.cases  # 12 for each of the 53 commands
    assert invalid.total >= 300, invalid.cases
    assert invalid.reached(422)
    assert invalid.reached(400)
    assert await check_store(store) > 0


@pytest.mark.timeout(300)
async def test_a_viewer_is_held_to_the_document_and_changes_nothing(
    world: World,
    live_api: LiveApi,
    tokens: Tokens,
    server_errors: ServerErrors,
    store: Store,
    record_property: Callable[[str, object], None],
) -> None:
    fuzzer = fuzzer_for(live_api, tokens, Role.VIEWER, world)
    before = {pid: await dump_project(store.redis, pid) for pid in world.projects}

    operations = await asyncio.to_thread(
        fuzzer.run, GenerationMode.POSITIVE, 6, fuzzer.operations()
    )
    commands = await asyncio.to_thread(fuzzer.run, GenerationMode.POSITIVE, 3, fuzzer.commands())
    record_property("cases", operations.total + commands.total)

    for report in (operations, commands):
        assert not report.findings, (
            f"{report.describe()}\nserver errors: {server_errors.describe()}"
        )
    assert operations.total + commands.total >= 300
    assert operations.reached(403)
    assert commands.reached(403)
    assert commands.reached(200)
    for pid in world.projects:
        assert await dump_project(store.redis, pid) == before[pid], pid
