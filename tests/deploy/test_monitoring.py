"""Monitoring in helm/awf: the worker and gateway metrics port, the prometheus-operator objects
that scrape all three services, the NetworkPolicy that lets the scrapers in, OTLP traces, the
alert rules and the Grafana dashboard, whose PromQL must parse and name only exported metrics.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from shared.observability import metrics
from shared.platform.settings import MonitoringSettings, Settings
from tests.deploy import promql
from tests.deploy.chart import CHART, by_kind, containers, pod_spec, render, selects
from tests.deploy.conftest import Run

FULL = CHART / "ci" / "full-with-monitoring.yaml"
DEFAULT = CHART / "ci" / "default.yaml"
DASHBOARD = CHART / "dashboards" / "awf.json"
# What the prometheus-operator reads of a PodMonitor (monitoring.coreos.com/v1 PodMonitorSpec,
# PodMetricsEndpoint and RelabelConfig): anything else is silently ignored by the operator.
POD_MONITOR_SPEC = {
    "selector", "podMetricsEndpoints", "jobLabel", "namespaceSelector", "podTargetLabels",
    "sampleLimit", "targetLimit", "labelLimit", "attachMetadata", "selectorMechanism",
}  # fmt: skip
POD_METRICS_ENDPOINT = {
    "port", "portNumber", "path", "scheme", "params", "interval", "scrapeTimeout",
    "honorLabels", "honorTimestamps", "relabelings", "metricRelabelings", "filterRunning",
    "tlsConfig", "authorization", "basicAuth", "oauth2", "followRedirects", "enableHttp2",
}  # fmt: skip
RELABEL_CONFIG = {
    "sourceLabels", "separator", "targetLabel", "regex", "modulus", "replacement", "action",
}  # fmt: skip
# The metrics a person looks at first, as metric objects: renaming one keeps this list right.
DASHBOARD_METRICS = [
    metrics.HTTP_REQUESTS, metrics.HTTP_DURATION, metrics.QUEUE_DEPTH, metrics.JOBS,
    metrics.JOBS_RUNNING, metrics.AGENT_EXECUTION, metrics.AGENT_TOKENS, metrics.AGENT_COST,
    metrics.MODEL_CALLS, metrics.DISCORD_COMMANDS, metrics.GATEWAY_LEADER, metrics.LEASE_HELD,
    metrics.ACTIVE_SPRINTS,
]  # fmt: skip
GRAFANA_PANEL_TYPES = {"row", "timeseries", "stat", "gauge", "bargauge", "table", "text", "heatmap"}
GRAFANA_BUILTIN_VARIABLES = {"__rate_interval", "__interval", "__range"}


@pytest.fixture(scope="module")
def full(helm: Run) -> list[dict[str, Any]]:
    return render(helm, FULL)


@pytest.fixture(scope="module")
def tools_python(tools: dict[str, Path]) -> Path:
    return tools["tools-python"]


def workloads(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return by_kind(objects, "Deployment") | by_kind(objects, "StatefulSet")


def env_of(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def setting_env(section: str, field: str) -> str:
    """The environment variable pydantic-settings reads for Settings.<section>.<field>."""
    delimiter = Settings.model_config.get("env_nested_delimiter")
    assert delimiter, "Settings reads no nested environment variables"
    assert section in Settings.model_fields
    return f"{section}{delimiter}{field}".upper()


def pod_labels(obj: dict[str, Any]) -> dict[str, str]:
    labels: dict[str, str] = obj["spec"]["template"]["metadata"]["labels"]
    return labels


@pytest.mark.parametrize(
    ("values", "port"), [(DEFAULT, 9100), (FULL, 9464)], ids=["default", "full"]
)
def test_worker_and_gateway_serve_metrics_on_the_metrics_port(
    helm: Run, values: Path, port: int
) -> None:
    variable = setting_env("monitoring", "metrics_port")
    assert "metrics_port" in MonitoringSettings.model_fields
    objects = workloads(render(helm, values))
    for name in ("awf-worker", "awf-gateway"):
        container = next(iter(containers(objects[name]).values()))
        env = env_of(container)
        assert MonitoringSettings(metrics_port=env[variable]).metrics_port == port, name
        assert {"name": "metrics", "containerPort": port, "protocol": "TCP"} in container["ports"]
    api = containers(objects["awf-api"])["api"]
    assert variable not in env_of(api), "the API serves /metrics on its http port"


def test_metrics_port_null_serves_no_worker_or_gateway_metrics(helm: Run) -> None:
    objects = render(helm, DEFAULT, "monitoring.metricsPort=null")
    for name in ("awf-worker", "awf-gateway"):
        container = next(iter(containers(workloads(objects)[name]).values()))
        assert setting_env("monitoring", "metrics_port") not in env_of(container)
        assert "ports" not in container


def test_otlp_endpoint_reaches_every_awf_container(helm: Run, full: list[dict[str, Any]]) -> None:
    variable = setting_env("monitoring", "otlp_endpoint")
    awf = [o for o in full if o["kind"] in {"Deployment", "StatefulSet", "CronJob"}]
    awf = [o for o in awf if o["metadata"]["name"] != "awf-redis"]
    assert {o["metadata"]["name"] for o in awf} == {
        "awf-api",
        "awf-worker",
        "awf-gateway",
        "awf-backup",
    }
    for obj in awf:
        for container in pod_spec(obj)["containers"]:
            endpoint = env_of(container)[variable]
            assert endpoint == "http://otel-collector.monitoring:4318/v1/traces"
            assert MonitoringSettings(otlp_endpoint=endpoint).otlp_endpoint == endpoint
    for obj in render(helm, DEFAULT):
        if obj["kind"] in {"Deployment", "StatefulSet"}:
            assert all(variable not in env_of(c) for c in pod_spec(obj)["containers"])


def test_pod_monitors_scrape_the_worker_and_gateway_pods(full: list[dict[str, Any]]) -> None:
    monitors = by_kind(full, "PodMonitor")
    assert set(monitors) == {"awf-worker", "awf-gateway"}
    for name, monitor in monitors.items():
        assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        spec = monitor["spec"]
        assert set(spec) <= POD_MONITOR_SPEC
        pods = workloads(full)[name]
        assert selects(spec["selector"], pod_labels(pods))
        others = [w for n, w in workloads(full).items() if n != name]
        assert not any(selects(spec["selector"], pod_labels(w)) for w in others)
        (endpoint,) = spec["podMetricsEndpoints"]
        assert set(endpoint) <= POD_METRICS_ENDPOINT
        ports = {p["name"] for c in pod_spec(pods)["containers"] for p in c.get("ports", [])}
        assert endpoint["port"] in ports
        assert endpoint["path"] == "/metrics"
        (relabel,) = endpoint["relabelings"]
        assert set(relabel) <= RELABEL_CONFIG
        assert relabel == {"action": "replace", "targetLabel": "job", "replacement": name}


def test_no_monitors_without_service_monitor_enabled(helm: Run) -> None:
    objects = render(helm, DEFAULT)
    kinds = {o["kind"] for o in objects}
    assert not kinds & {"ServiceMonitor", "PodMonitor", "PrometheusRule"}
    assert not [o for o in by_kind(objects, "ConfigMap") if o.endswith("-dashboard")]


def admitted_ports(
    policies: dict[str, dict[str, Any]], labels: dict[str, str], peer: dict[str, Any]
) -> set[str]:
    """Ports of pods with `labels` that NetworkPolicies open to `peer` (one of their peers)."""
    ports: set[str] = set()
    for policy in policies.values():
        if not selects(policy["spec"]["podSelector"], labels):
            continue
        for rule in policy["spec"].get("ingress", []):
            if peer in (rule.get("from") or []):
                ports |= {str(p["port"]) for p in rule["ports"]}
    return ports


def test_network_policy_lets_the_scrapers_reach_every_metrics_port(
    helm: Run, full: list[dict[str, Any]]
) -> None:
    (scraper,) = yaml.safe_load(FULL.read_text())["networkPolicy"]["metricsFrom"]
    policies = by_kind(full, "NetworkPolicy")
    loads = workloads(full)
    assert admitted_ports(policies, pod_labels(loads["awf-api"]), scraper) == {"http"}
    assert admitted_ports(policies, pod_labels(loads["awf-worker"]), scraper) == {"metrics"}
    assert admitted_ports(policies, pod_labels(loads["awf-gateway"]), scraper) == {"metrics"}
    # Without the monitors, worker and gateway pods accept nothing (the deny-ingress policy).
    default = render(helm, DEFAULT)
    for name in ("awf-worker", "awf-gateway"):
        labels = pod_labels(workloads(default)[name])
        selecting = [
            p for p in by_kind(default, "NetworkPolicy").values()
            if selects(p["spec"]["podSelector"], labels)
        ]  # fmt: skip
        assert selecting, name
        assert all(not p["spec"].get("ingress") for p in selecting), name


def monitor_jobs(objects: list[dict[str, Any]]) -> set[str]:
    """The `job` label of every target the chart's monitors make."""
    services = by_kind(objects, "Service")
    jobs = set()
    for monitor in by_kind(objects, "ServiceMonitor").values():
        selector = monitor["spec"]["selector"]
        jobs |= {n for n, s in services.items() if selects(selector, s["metadata"]["labels"])}
    for monitor in by_kind(objects, "PodMonitor").values():
        for endpoint in monitor["spec"]["podMetricsEndpoints"]:
            jobs |= {r["replacement"] for r in endpoint["relabelings"] if r["targetLabel"] == "job"}
    return jobs


def test_alert_rules_are_promql_over_exported_metrics_and_monitored_jobs(
    full: list[dict[str, Any]], tools_python: Path
) -> None:
    (rule_object,) = by_kind(full, "PrometheusRule").values()
    rules = [r for group in rule_object["spec"]["groups"] for r in group["rules"]]
    parsed = promql.parse(tools_python, [r["expr"] for r in rules])
    exported = promql.exported_metrics()
    jobs = monitor_jobs(full)
    assert jobs == {"awf-api", "awf-worker", "awf-gateway"}
    for rule, result in zip(rules, parsed, strict=True):
        assert not promql.problems(result, exported), (
            rule["alert"],
            promql.problems(result, exported),
        )
        job_matchers = [m for s in result.selectors for m in s.matchers if m[0] == "job"]
        assert job_matchers, f"{rule['alert']} selects no job of this release"
        for _, op, value in job_matchers:
            matched = {job for job in jobs if re.fullmatch(value, job)} if op == "=~" else {value}
            assert op in {"=", "=~"}, rule["alert"]
            assert matched, (rule["alert"], value)
            assert matched <= jobs, (rule["alert"], value)
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]


def alert(rules: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(r for r in rules if r["alert"] == name)


def test_alert_rules_cover_leader_queue_jobs_and_model_api(full: list[dict[str, Any]]) -> None:
    (rule_object,) = by_kind(full, "PrometheusRule").values()
    rules = [r for group in rule_object["spec"]["groups"] for r in group["rules"]]
    values = yaml.safe_load(FULL.read_text())
    (lease,) = promql.sample_names(metrics.LEASE_HELD)
    no_leader = alert(rules, "AwfGatewayNoLeader")
    assert no_leader["expr"].strip() == f'max({lease}{{job="awf-api",namespace="default"}}) == 0'
    assert no_leader["for"] == "2m"
    (depth,) = promql.sample_names(metrics.QUEUE_DEPTH)
    backlog = alert(rules, "AwfQueueBacklogGrowing")["expr"]
    assert f"{depth}{{" in backlog
    assert f"> {values['monitoring']['prometheusRule']['queueBacklog']}\n" in backlog
    # with KEDA, the queue may hold activationListLength jobs before workers are woken
    activation = values["worker"]["keda"]["activationListLength"]
    assert f"> {activation}\n" in alert(rules, "AwfQueueWithoutWorkers")["expr"]
    jobs_total = next(n for n in promql.sample_names(metrics.JOBS) if n.endswith("_total"))
    failing = alert(rules, "AwfJobsFailing")["expr"]
    assert (
        f'{jobs_total}{{job=~"awf-(api|worker|gateway)",namespace="default",status="error"}}'
        in failing
    )
    model_calls = next(n for n in promql.sample_names(metrics.MODEL_CALLS) if n.endswith("_total"))
    model_errors = alert(rules, "AwfModelApiErrors")["expr"]
    assert (
        f'{model_calls}{{job=~"awf-(api|worker|gateway)",namespace="default",status!="ok"}}'
        in model_errors
    )


def test_the_promql_check_catches_renamed_metrics_and_labels(tools_python: Path) -> None:
    exprs = [
        "sum by (route) (rate(http_requests_total[5m]))",
        "sum by (route) (rate(http_request_total[5m]))",
        "sum by (code) (rate(http_requests_total[5m]))",
        'rate(http_requests_total{code="500"}[5m])',
        "rate(http_requests_total)",
    ]
    found = [
        promql.problems(p, promql.exported_metrics()) for p in promql.parse(tools_python, exprs)
    ]
    assert found[0] == []
    assert found[1][0] == "metric 'http_request_total' is not exported"
    assert found[2] == ["aggregates by unknown label 'code'"]
    assert found[3] == ["http_requests_total has no label 'code'"]
    assert found[4][0].startswith("does not parse: expected type matrix")


def dashboard_targets(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (panel["title"], target["expr"])
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    ]


def test_dashboard_is_a_grafana_dashboard(tools_python: Path) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"]
    assert dashboard["title"]
    assert isinstance(dashboard["schemaVersion"], int)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids repeat"
    for panel in dashboard["panels"]:
        assert panel["type"] in GRAFANA_PANEL_TYPES, panel["title"]
        grid = panel["gridPos"]
        assert all(isinstance(grid[k], int) for k in ("x", "y", "w", "h")), panel["title"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert ref_ids, panel["title"]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
    used = {
        name for _, expr in dashboard_targets(dashboard) for name in re.findall(r"\$\{?(\w+)", expr)
    }
    assert used <= set(variables) | GRAFANA_BUILTIN_VARIABLES
    variable_queries = [v["query"]["query"] for v in variables.values() if v["type"] == "query"]
    for query in variable_queries:
        assert query.startswith("label_values(")
    exprs = [promql.grafana_to_promql(e) for _, e in dashboard_targets(dashboard)]
    exprs += [
        promql.grafana_to_promql(q.removeprefix("label_values(").rsplit(",", 1)[0])
        for q in variable_queries
    ]
    exported = promql.exported_metrics()
    for expr, result in zip(exprs, promql.parse(tools_python, exprs), strict=True):
        assert not promql.problems(result, exported), (expr, promql.problems(result, exported))


def test_dashboard_shows_the_main_metrics(tools_python: Path) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [promql.grafana_to_promql(e) for _, e in dashboard_targets(dashboard)]
    shown = {s.name for p in promql.parse(tools_python, exprs) for s in p.selectors}
    for metric in DASHBOARD_METRICS:
        names = promql.sample_names(metric)
        assert names & shown, f"no panel shows any of {sorted(names)}"


def test_dashboard_config_map_carries_the_json_for_the_grafana_sidecar(
    full: list[dict[str, Any]],
) -> None:
    config_map = by_kind(full, "ConfigMap")["awf-dashboard"]
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert config_map["metadata"]["annotations"] == {"grafana_folder": "awf"}
    assert json.loads(config_map["data"]["awf.json"]) == json.loads(DASHBOARD.read_text())
    assert len(config_map["data"]["awf.json"]) < 512 * 1024  # far from a ConfigMap's 1 MiB
