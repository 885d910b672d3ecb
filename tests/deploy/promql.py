"""PromQL of the chart's alerts and dashboard, checked against the metrics the code exports.

Expressions are parsed by promql-parser (a port of Prometheus's own parser and type checker) in
the Python of .ci/k8s-tools, which has it. The exported metrics are read from the metric objects
of shared/observability/metrics.py, so renaming a metric or a label there breaks these checks.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client.metrics import MetricWrapperBase

from shared.observability import metrics

__all__ = [
    "TARGET_LABELS",
    "Parsed",
    "Selector",
    "exported_metrics",
    "grafana_to_promql",
    "parse",
    "problems",
    "sample_names",
]

# Labels Prometheus adds to every sample of a prometheus-operator target.
TARGET_LABELS = frozenset(
    {"job", "namespace", "pod", "instance", "container", "endpoint", "service"}
)
# Series Prometheus makes itself for every target.
SYNTHETIC = {"up": frozenset[str]()}
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "gauge": ("",),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
}

# Run by the tools' Python: JSON list of expressions on stdin, one report per expression out.
_PARSER = """
import json, sys
import promql_parser as p
OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}
def report(expr):
    try:
        tree = p.parse(expr)
    except ValueError as exc:
        return {"error": str(exc), "selectors": [], "by": []}
    selectors, by = [], []
    def visit(node):
        if isinstance(node, p.VectorSelector):
            matchers = [[m.name, OPS[str(m.op).rsplit(".", 1)[-1]], m.value]
                        for m in node.matchers.matchers]
            selectors.append({"name": node.name, "matchers": matchers})
        if isinstance(node, p.AggregateExpr) and node.modifier is not None:
            if str(node.modifier.type).endswith("By"):
                by.extend(node.modifier.labels)
    p.walk(tree, visit)
    return {"error": None, "selectors": selectors, "by": by}
print(json.dumps([report(e) for e in json.load(sys.stdin)]))
"""


@dataclass(frozen=True)
class Selector:
    name: str | None
    matchers: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class Parsed:
    expr: str
    error: str | None
    selectors: tuple[Selector, ...]
    by: tuple[str, ...]


def sample_names(metric: MetricWrapperBase) -> set[str]:
    """The sample names one metric object exposes (a counter `x` as `x_total`, ...)."""
    (family,) = metric.describe()
    return {family.name + suffix for suffix in _SUFFIXES[family.type]}


def exported_metrics() -> dict[str, frozenset[str]]:
    """Every sample name of shared/observability/metrics.py, with its label names."""
    found = dict(SYNTHETIC)
    for value in vars(metrics).values():
        if isinstance(value, MetricWrapperBase):
            labels = frozenset(value._labelnames)
            for name in sample_names(value):
                found[name] = (labels | {"le"}) if name.endswith("_bucket") else labels
    return found


def parse(python: Path, exprs: list[str]) -> list[Parsed]:
    result = subprocess.run(
        [str(python), "-c", _PARSER],
        input=json.dumps(exprs),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    reports: list[dict[str, Any]] = json.loads(result.stdout)
    return [
        Parsed(
            expr=expr,
            error=report["error"],
            selectors=tuple(
                Selector(s["name"], tuple(tuple(m) for m in s["matchers"]))
                for s in report["selectors"]
            ),
            by=tuple(report["by"]),
        )
        for expr, report in zip(exprs, reports, strict=True)
    ]


def problems(parsed: Parsed, exported: dict[str, frozenset[str]]) -> list[str]:
    """What in one expression names a metric or label nothing exports (empty: none)."""
    if parsed.error:
        return [f"does not parse: {parsed.error}"]
    found: list[str] = []
    known_labels = set(TARGET_LABELS)
    for selector in parsed.selectors:
        if selector.name not in exported:
            found.append(f"metric {selector.name!r} is not exported")
            continue
        labels = exported[selector.name] | TARGET_LABELS
        known_labels |= labels
        found += [
            f"{selector.name} has no label {m[0]!r}"
            for m in selector.matchers
            if m[0] not in labels
        ]
    found += [
        f"aggregates by unknown label {label!r}" for label in parsed.by if label not in known_labels
    ]
    return found


def grafana_to_promql(expr: str) -> str:
    """A dashboard query with its Grafana variables replaced, as Grafana sends it."""
    expr = re.sub(r"\$__(rate_interval|interval|range)\b", "5m", expr)
    return re.sub(r"\$\{?(\w+)\}?", "x", expr)
