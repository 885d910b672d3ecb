"""compose.yaml, .env.example and the nginx config, read as data.

`docker-compose config` and `nginx -t` run in .ci/check-compose where Debian's packages can be
installed; these tests need nothing but PyYAML.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from shared.platform.settings import Settings
from tests.deploy.conftest import ROOT

NGINX_CONF = ROOT / ".deploy" / "nginx" / "awf.conf"
ONE_SHOT = {"tls-init"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def example_names() -> list[str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return [line.split("=", 1)[0] for line in lines if line and not line.startswith("#")]


def by_command(services: dict[str, dict[str, Any]], command: str) -> list[str]:
    return sorted(name for name, s in services.items() if s.get("command") == [command])


def settings_env_names() -> set[str]:
    """Top-level settings as env vars, plus SECTION__KEY for every key of every section."""
    names = set()
    for name, field in Settings.model_fields.items():
        section = field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            names |= {f"{name}__{key}".upper() for key in section.model_fields}
        else:
            names.add(name.upper())
    return names


def test_the_stack_has_every_service(services: dict[str, dict[str, Any]]) -> None:
    assert by_command(services, "api") == ["api-1", "api-2"]
    assert by_command(services, "worker") == ["worker"]
    assert by_command(services, "gateway") == ["gateway-1", "gateway-2"]
    assert {"redis", "nginx", "tls-init"} <= set(services)


def test_every_long_running_service_has_a_healthcheck(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        if name in ONE_SHOT:
            assert service["restart"] == "no"
            continue
        check = service.get("healthcheck", {})
        assert check.get("test", [None])[0] == "CMD", name
        assert {"interval", "timeout", "retries"} <= set(check), name


def test_awf_services_probe_their_own_health(services: dict[str, dict[str, Any]]) -> None:
    for command in ("api", "worker", "gateway"):
        for name in by_command(services, command):
            test = services[name]["healthcheck"]["test"]
            assert test[1:5] == ["python", "-m", "services.healthcheck", command], name


def test_awf_containers_are_read_only_without_capabilities(
    services: dict[str, dict[str, Any]],
) -> None:
    awf = [
        s for s in services.values() if s.get("command", [""])[0] in {"api", "worker", "gateway"}
    ]
    assert len(awf) == 5
    for service in awf:
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]
        assert service["tmpfs"] == ["/tmp"]  # noqa: S108 - the container's private tmpfs
        assert service["depends_on"]["redis"] == {"condition": "service_healthy"}


def test_redis_appends_every_second_to_a_volume(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    command = services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == "everysec"
    volume = services["redis"]["volumes"][0].split(":")
    assert volume[1] == "/data"
    assert volume[0] in compose["volumes"]


def test_nginx_terminates_tls_and_balances_both_api_replicas(
    services: dict[str, dict[str, Any]],
) -> None:
    nginx = services["nginx"]
    assert any(port.endswith(":443") for port in nginx["ports"])
    assert "./.deploy/nginx/awf.conf:/etc/nginx/conf.d/default.conf:ro" in nginx["volumes"]
    assert nginx["depends_on"]["tls-init"] == {"condition": "service_completed_successfully"}
    conf = NGINX_CONF.read_text()
    upstreams = re.findall(r"^\s*server (\S+):8000\b", conf, re.MULTILINE)
    assert sorted(upstreams) == by_command(services, "api")
    assert "ssl_certificate /etc/nginx/tls/tls.crt;" in conf
    assert "location = /api/v1/discord/interactions {" in conf
    internal = re.search(r"location ~ \^/\((\S+)\)\$ \{\s*return 404;", conf)
    assert internal is not None  # probes and metrics are not served to the internet
    assert set(internal.group(1).split("|")) == {"livez", "readyz", "metrics"}
    assert re.search(r"listen 443 ssl;", conf)


def test_env_example_lists_every_variable_compose_reads(compose: dict[str, Any]) -> None:
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", (ROOT / "compose.yaml").read_text()))
    assert used == set(example_names())
    assert len(example_names()) == len(set(example_names())), "duplicate names in .env.example"


def test_env_example_has_the_seed_variables_with_settings_names() -> None:
    names = set(example_names())
    seed = {
        "DISCORD_BOT_TOKEN", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "JWT_SECRET",
        "ENCRYPTION_KEY", "SENTRY_DSN", "REDIS_URL", "LOG_LEVEL", "AWF_ENV",
    }  # fmt: skip
    assert seed <= names
    top_level = {n.upper() for n, f in Settings.model_fields.items() if "__" not in n}
    sections = {
        n.upper()
        for n, f in Settings.model_fields.items()
        if isinstance(f.annotation, type) and issubclass(f.annotation, BaseModel)
    }
    assert top_level - sections <= names, "a top-level setting is missing from .env.example"
    app_names = {n for n in names if not n.startswith("AWF_") or n == "AWF_ENV"}
    assert app_names <= settings_env_names(), "unknown setting names in .env.example"


def test_every_awf_container_gets_every_app_variable(services: dict[str, dict[str, Any]]) -> None:
    app_names = {n for n in example_names() if not n.startswith("AWF_") or n == "AWF_ENV"}
    for name in by_command(services, "worker") + by_command(services, "gateway"):
        assert set(services[name]["environment"]) == app_names, name
    for name in by_command(services, "api"):
        assert set(services[name]["environment"]) == app_names | {"FORWARDED_ALLOW_IPS"}, name
