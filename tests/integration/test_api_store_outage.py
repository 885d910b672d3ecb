"""Redis unreachable under a running API: reads and writes answer 503 store_unavailable with
Retry-After (not a 500, after which uvicorn closes the client's connection)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from services.api.app import create_app
from shared.domain.commands import Role
from shared.platform.auth import mint_token
from shared.platform.embedded_redis import EmbeddedRedis
from shared.platform.settings import load_settings

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


async def test_an_unreachable_redis_answers_503_with_retry_after(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis", appendonly=False)
    server.start()
    config = tmp_path / "config.yml"
    config.write_text("{}\n")
    settings = load_settings(config, awf_env="test", redis_url=server.url)
    token = mint_token(settings.jwt_secret.get_secret_value(), "a", Role.ADMIN, timedelta(hours=1))
    try:
        async with LifespanManager(create_app(settings)) as manager:
            transport = httpx.ASGITransport(manager.app)
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(
                transport=transport, base_url="http://api", headers=headers
            ) as http:
                assert (await http.get("/api/v1/projects")).status_code == 200
                server.stop()
                down = await http.get("/api/v1/projects")
                written = await http.post(
                    "/api/v1/commands",
                    json={"command": "project register", "args": {"repo_url": "/r.git"}},
                )
    finally:
        server.stop()
    for answer in (down, written):
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "1"
        assert answer.json()["type"] == "store_unavailable"
