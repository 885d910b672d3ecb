"""SIGTERM to SIGKILL: Kubernetes (k8s/, rendered from the chart) and compose wait longer than each
service takes to drain with the chart's config, so a graceful stop is never cut short."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from shared.platform.settings import Settings, load_settings
from tests.deploy.conftest import CHART, ROOT

SHUTDOWN_S = 5  # after the drain: the lifespan / on_shutdown hooks close clients and pools


@pytest.fixture(name="settings", scope="module")
def settings_fixture(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The settings every pod runs with: the chart's config.yml, defaults elsewhere."""
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    config = tmp_path_factory.mktemp("grace") / "config.yml"
    config.write_text(yaml.safe_dump(values["config"]))
    return load_settings(config, awf_env="test")


def pod(manifest: str) -> dict[str, Any]:
    obj = yaml.safe_load((ROOT / "k8s" / manifest).read_text())
    spec: dict[str, Any] = obj["spec"]["template"]["spec"]
    return spec


def pre_stop_s(spec: dict[str, Any]) -> int:
    command = spec["containers"][0].get("lifecycle", {}).get("preStop", {}).get("exec", {})
    argv = command.get("command", [])
    return int(argv[1]) if argv[:1] == ["sleep"] else 0


def test_an_api_pod_serves_through_its_pre_stop_then_drains(settings: Settings) -> None:
    spec = pod("api-deployment.yaml")
    assert pre_stop_s(spec) > 0  # the endpoints drop the pod before uvicorn closes its port
    needed = pre_stop_s(spec) + settings.api.drain_timeout_s + SHUTDOWN_S
    assert spec["terminationGracePeriodSeconds"] >= needed


def test_a_worker_pod_outlives_its_drain(settings: Settings) -> None:
    spec = pod("worker-deployment.yaml")
    needed = settings.orchestrator.drain_timeout_s + SHUTDOWN_S
    assert spec["terminationGracePeriodSeconds"] >= needed


def test_a_gateway_pod_outlives_stopping_its_duty(settings: Settings) -> None:
    spec = pod("gateway-statefulset.yaml")
    assert spec["terminationGracePeriodSeconds"] >= settings.gateway.stop_timeout_s + SHUTDOWN_S


def test_compose_waits_for_the_longest_drain(settings: Settings) -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    grace = re.fullmatch(r"(\d+)s", compose["x-awf-service"]["stop_grace_period"])
    assert grace is not None
    seconds = int(grace.group(1))
    drains = (settings.api.drain_timeout_s, settings.orchestrator.drain_timeout_s)
    assert seconds >= max(drains) + SHUTDOWN_S
