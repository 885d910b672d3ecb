"""The Helm chart helm/awf: lint, render with each ci/*.yaml, Kubernetes schemas, security,
probes, KEDA's trigger, monitoring objects, values.schema.json, and k8s/ kept in sync.

Schemas: built-in kinds are validated by kubernetes-validate (bundled OpenAPI schemas of
Kubernetes 1.33, strict: unknown fields fail). The CRD kinds (KEDA, prometheus-operator) have no
schema there; their fields are checked here against what KEDA and the operator read.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from shared.platform.settings import AlertThresholds, Settings, load_settings
from shared.state import keys
from tests.deploy.chart import by_kind, pod_spec, render
from tests.deploy.conftest import CHART, CI_VALUES, ROOT, Run

CRD_KINDS = {
    "ScaledObject", "TriggerAuthentication", "ServiceMonitor", "PodMonitor", "PrometheusRule",
}  # fmt: skip
# The metadata keys KEDA's redis scaler reads (keda pkg/scalers/redis_scaler.go, redisMetadata).
KEDA_REDIS_KEYS = {
    "address", "host", "port", "listName", "listLength", "activationListLength",
    "databaseIndex", "enableTLS", "unsafeSsl", "usernameFromEnv", "passwordFromEnv",
}  # fmt: skip
POD_KINDS = {"Deployment", "StatefulSet", "CronJob"}


@pytest.fixture(scope="module")
def default_objects(helm: Run) -> list[dict[str, Any]]:
    return render(helm, CHART / "ci" / "default.yaml")


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.stem)
def test_lint_strict_passes(helm: Run, values: Path) -> None:
    result = helm("lint", "--strict", str(CHART), "-f", str(values))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.stem)
def test_rendered_objects_validate_against_kubernetes_schemas(
    helm: Run, tools: dict[str, Path], values: Path, tmp_path: Path
) -> None:
    objects = render(helm, values)
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(objects))
    result = subprocess.run(
        [str(tools["kubernetes-validate"]), "-k", "1.33", "--strict", str(rendered)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    built_in = [o for o in objects if o["kind"] not in CRD_KINDS]
    assert result.stdout.count(" passed for resource ") == len(built_in), result.stdout
    assert {o["kind"] for o in objects} - CRD_KINDS - {"ScaledObject"} <= {
        "ConfigMap", "CronJob", "Deployment", "HorizontalPodAutoscaler", "Ingress",
        "NetworkPolicy", "PersistentVolumeClaim", "PodDisruptionBudget", "Service",
        "ServiceAccount", "StatefulSet",
    }  # fmt: skip


@pytest.mark.parametrize("values", CI_VALUES, ids=lambda p: p.stem)
def test_every_pod_is_non_root_read_only_without_capabilities(helm: Run, values: Path) -> None:
    pods = [o for o in render(helm, values) if o["kind"] in POD_KINDS]
    assert pods
    for obj in pods:
        spec = pod_spec(obj)
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        assert spec["automountServiceAccountToken"] is False, where
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, where
        for container in spec["containers"]:
            sc = container["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, where
            assert sc["allowPrivilegeEscalation"] is False, where
            assert sc["capabilities"] == {"drop": ["ALL"]}, where


def test_probes_use_livez_readyz_and_the_health_probe(
    default_objects: list[dict[str, Any]],
) -> None:
    api = by_kind(default_objects, "Deployment")["awf-api"]
    container = pod_spec(api)["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["startupProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    others = [by_kind(default_objects, "Deployment")["awf-worker"]]
    others.append(by_kind(default_objects, "StatefulSet")["awf-gateway"])
    for obj, service in zip(others, ["worker", "gateway"], strict=True):
        probe = pod_spec(obj)["containers"][0]["livenessProbe"]["exec"]["command"]
        assert probe == ["python", "-m", "services.healthcheck", service]


def test_services_run_the_image_commands(default_objects: list[dict[str, Any]]) -> None:
    workloads = by_kind(default_objects, "Deployment") | by_kind(default_objects, "StatefulSet")
    args = {name: pod_spec(o)["containers"][0].get("args") for name, o in workloads.items()}
    assert args["awf-api"] == ["api"]
    assert args["awf-worker"] == ["worker"]
    assert args["awf-gateway"] == ["gateway"]
    backup = by_kind(default_objects, "CronJob")["awf-backup"]
    assert pod_spec(backup)["containers"][0]["args"] == ["awf", "backup", "--dir", "/backups"]


def test_keda_scales_the_worker_on_the_arq_queue(default_objects: list[dict[str, Any]]) -> None:
    scaled = by_kind(default_objects, "ScaledObject")["awf-worker"]
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"]["name"] in by_kind(default_objects, "Deployment")
    assert scaled["spec"]["scaleTargetRef"]["name"] == "awf-worker"
    assert 1 <= scaled["spec"]["minReplicaCount"] < scaled["spec"]["maxReplicaCount"]
    assert scaled["spec"]["cooldownPeriod"] > 0
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "redis"
    meta = trigger["metadata"]
    assert meta["listName"] == keys.ARQ_QUEUE
    assert set(meta) <= KEDA_REDIS_KEYS
    assert all(isinstance(v, str) for v in meta.values())  # KEDA's metadata is map[string]string
    assert int(meta["listLength"]) >= 1
    redis_service = by_kind(default_objects, "Service")["awf-redis"]
    assert meta["address"] == f"{redis_service['metadata']['name']}:6379"


def test_keda_with_external_redis_uses_tls_and_a_trigger_authentication(helm: Run) -> None:
    objects = render(helm, CHART / "ci" / "external-redis.yaml")
    assert "awf-redis" not in by_kind(objects, "StatefulSet")
    (trigger,) = by_kind(objects, "ScaledObject")["awf-worker"]["spec"]["triggers"]
    assert trigger["metadata"]["address"] == "redis.example.internal:6380"
    assert trigger["metadata"]["enableTLS"] == "true"
    auth = by_kind(objects, "TriggerAuthentication")[trigger["authenticationRef"]["name"]]
    assert auth["spec"]["secretTargetRef"] == [
        {"parameter": "password", "name": "awf-redis", "key": "password"}
    ]
    env = pod_spec(by_kind(objects, "Deployment")["awf-api"])["containers"][0]["env"]
    redis_url = next(e for e in env if e["name"] == "REDIS_URL")
    assert redis_url["valueFrom"]["secretKeyRef"] == {"name": "awf-secrets", "key": "REDIS_URL"}


def test_secrets_come_from_the_existing_secret(default_objects: list[dict[str, Any]]) -> None:
    env = pod_spec(by_kind(default_objects, "Deployment")["awf-worker"])["containers"][0]["env"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in env if "valueFrom" in e}
    assert set(refs) == {
        "JWT_SECRET", "ENCRYPTION_KEY", "DISCORD_BOT_TOKEN", "ANTHROPIC_API_KEY",
        "OPENAI_API_KEY", "SENTRY_DSN",
    }  # fmt: skip
    assert all(ref["name"] == "awf-secrets" and ref["key"] == name for name, ref in refs.items())
    assert "optional" not in refs["JWT_SECRET"]
    assert "optional" not in refs["ENCRYPTION_KEY"]
    assert not by_kind(default_objects, "Secret")


def test_included_redis_uses_aof_everysec_on_a_volume(
    default_objects: list[dict[str, Any]],
) -> None:
    redis = by_kind(default_objects, "StatefulSet")["awf-redis"]
    args = pod_spec(redis)["containers"][0]["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    assert args[args.index("--appendfsync") + 1] == "everysec"
    assert redis["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"


def test_ingress_routes_the_api_and_discord_interactions_with_tls(
    default_objects: list[dict[str, Any]],
) -> None:
    ingress = by_kind(default_objects, "Ingress")["awf"]
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"][0]["secretName"]
    paths = {p["path"]: p for p in ingress["spec"]["rules"][0]["http"]["paths"]}
    assert paths["/api/v1/discord/interactions"]["pathType"] == "Exact"
    assert paths["/api"]["pathType"] == "Prefix"
    assert {p["backend"]["service"]["name"] for p in paths.values()} == {"awf-api"}


def test_monitoring_objects_match_the_service_and_the_alert_thresholds(helm: Run) -> None:
    objects = render(helm, CHART / "ci" / "full-with-monitoring.yaml")
    api_service = by_kind(objects, "Service")["awf-api"]
    monitor = by_kind(objects, "ServiceMonitor")["awf-api"]
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= api_service["metadata"]["labels"].items()
    assert monitor["spec"]["endpoints"][0]["port"] in {
        p["name"] for p in api_service["spec"]["ports"]
    }
    rules = by_kind(objects, "PrometheusRule")["awf"]["spec"]["groups"][0]["rules"]
    exprs = {r["alert"]: r["expr"] for r in rules}
    defaults = AlertThresholds()
    assert exprs["AwfApiErrorRateHigh"].rstrip().endswith(f"> {defaults.error_rate}")
    assert exprs["AwfApiSlowResponses"].rstrip().endswith(f"> {defaults.response_time:g}")


def test_chart_config_is_a_valid_application_config(tmp_path: Path) -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    config = tmp_path / "config.yml"
    config.write_text(yaml.safe_dump(values["config"]))
    settings = load_settings(config, awf_env="test")
    assert settings.monitoring.alert_thresholds == AlertThresholds()
    schema = yaml.safe_load((CHART / "values.schema.json").read_text())
    sections = set(schema["properties"]["config"]["properties"])
    app_sections = {
        name
        for name, field in Settings.model_fields.items()
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel)
    }
    assert sections == app_sections, "values.schema.json config sections != Settings sections"
    assert values["worker"]["keda"]["queueKey"] == keys.ARQ_QUEUE


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("secrets.existingSecret=", "at '/secrets/existingSecret'"),
        ("worker.keda.maxReplicaCount=0", "at '/worker/keda/maxReplicaCount': minimum"),
        ("worker.terminationGracePeriodSeconds=10", "at '/worker/terminationGracePeriodSeconds'"),
        ("redis.appendfsync=sometimes", "at '/redis/appendfsync'"),
        ("redis.external.enabled=true", "at '/redis/external/address'"),
        ("config.orchestratr.mode=x", "additional properties 'orchestratr' not allowed"),
        ("backup.schedule=hourly", "at '/backup/schedule'"),
        ("image.pullPolicy=Sometimes", "at '/image/pullPolicy'"),
        ("monitoring.metricsPort=80", "at '/monitoring/metricsPort': minimum"),
        (
            "monitoring.serviceMonitor.enabled=true,monitoring.metricsPort=null",
            "at '/monitoring': missing property 'metricsPort'",
        ),
        ("monitoring.otlpEndpoint=otel-collector:4318", "at '/monitoring/otlpEndpoint'"),
        (
            "monitoring.grafanaDashboard.labels.grafana_dashboard=1",
            "at '/monitoring/grafanaDashboard/labels/grafana_dashboard': got number, want string",
        ),
        (
            "monitoring.prometheusRule.queueBacklog=0",
            "at '/monitoring/prometheusRule/queueBacklog'",
        ),
    ],
)
def test_schema_rejects_bad_values_with_a_clear_message(
    helm: Run, override: str, message: str
) -> None:
    result = helm(
        "template", "awf", str(CHART), "-f", str(CHART / "ci" / "default.yaml"), "--set", override
    )
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def test_k8s_manifests_match_the_chart(tools: dict[str, Path]) -> None:
    result = subprocess.run(
        ["bash", str(ROOT / ".ci" / "render-k8s"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in (ROOT / "k8s").glob("*.yaml"))
