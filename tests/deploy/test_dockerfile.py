"""The Dockerfile: hadolint (from .ci/k8s-tools) and the rules it cannot see."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.deploy.conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
SECRETS = ("JWT_SECRET", "ENCRYPTION_KEY", "DISCORD_BOT_TOKEN", "ANTHROPIC_API_KEY",
           "OPENAI_API_KEY", "SENTRY_DSN")  # fmt: skip


def final_stage() -> str:
    return DOCKERFILE[DOCKERFILE.rindex("\nFROM ") :]


def test_hadolint_is_clean(tools: dict[str, Path]) -> None:
    result = subprocess.run(
        [str(tools["hadolint"]), str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_dependencies_install_before_the_project_is_copied() -> None:
    deps = DOCKERFILE.index("uv sync --frozen --no-install-project --no-dev")
    assert deps < DOCKERFILE.index("COPY services ./services")
    assert "UV_COMPILE_BYTECODE=1" in DOCKERFILE
    assert "python -m compileall -q services shared" in DOCKERFILE
    assert len(re.findall(r"^FROM ", DOCKERFILE, re.MULTILINE)) >= 3


def test_runtime_is_non_root_with_a_healthcheck_and_the_service_dispatcher() -> None:
    stage = final_stage()
    assert re.search(r"^USER 10001:10001$", stage, re.MULTILINE)
    assert 'CMD ["python", "-m", "services.healthcheck"]' in stage
    assert 'ENTRYPOINT ["/usr/bin/tini", "--", "python", "-m", "services.entrypoint"]' in stage
    assert 'CMD ["api"]' in stage
    assert re.search(r"apt-get install .*\bgit\b", stage)


def test_no_secret_is_baked_in() -> None:
    for line in DOCKERFILE.splitlines():
        if line.startswith(("ENV", "ARG")) or (line.startswith("    ") and "=" in line):
            assert not any(name in line for name in SECRETS), line
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored
