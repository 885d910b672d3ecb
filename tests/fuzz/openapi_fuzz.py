"""Schemathesis over the API's published OpenAPI document, against the live app.

Every operation gets its own Hypothesis run (derandomized: the same cases every time) of cases
schemathesis generates from the document, sent over HTTP with a real bearer token. Most cases
are aimed at the seeded world: the project in the path is one of its projects, and story, epic,
sprint and approval ids (in the path or the body) are ones it holds, so requests reach the
handlers rather than stopping at a 404. Each response is held to the checks below; a failing
case is recorded with its reproduction and the run goes on, so one run lists every distinct
problem (no shrinking: schemathesis' curl line is the reproduction).
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from random import Random
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err, Ok
from schemathesis.schemas import APIOperation, BaseSchema
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fuzz.world import ENTITY_ID, World

__all__ = ["CHECKS", "Finding", "Fuzzer", "Report", "Target"]

Operation = APIOperation[Any, Any, Any, Any]
Target = tuple[str, Operation]  # a label for the report, and the operation

CHECKS = (
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
)
# what a path parameter or an argument of that name holds
_PATH_KINDS = {
    "story_id": "story",
    "epic_id": "epic",
    "sprint_id": "sprint",
    "approval_id": "approval",
}
_ARG_KINDS = {
    "story_id": ("story",),
    "epic_id": ("epic",),
    "sprint_id": ("sprint",),
    "id": ("story",),
    "ids": ("story", "approval"),
    "story_ids": ("story",),
}
_MAX_FINDINGS_SHOWN = 12
_COMMAND_PATHS = ("/api/v1/commands", "/api/v1/projects/{project_id}/commands")
_GENERATED = 0.25  # the share of ids left as schemathesis generated them


@dataclass(frozen=True)
class Finding:
    operation: str
    problem: str
    status: int | None
    detail: str


@dataclass
class Report:
    """Cases sent per operation, statuses answered, and the first case of each distinct problem."""

    cases: Counter[str] = field(default_factory=Counter)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    findings: dict[tuple[str, str, int | None], Finding] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.cases.values())

    def add(self, finding: Finding) -> None:
        self.findings.setdefault((finding.operation, finding.problem, finding.status), finding)

    def reached(self, status: int) -> set[str]:
        """Operations that answered `status` at least once."""
        return {op for (op, code) in self.statuses if code == status}

    def describe(self) -> str:
        shown = list(self.findings.values())[:_MAX_FINDINGS_SHOWN]
        lines = [f"{len(self.findings)} distinct problems in {self.total} cases:"]
        for f in shown:
            lines.append(
                f"\n--- {f.operation}: {f.problem} (status {f.status})\n{f.detail[:1_500]}"
            )
        return "\n".join(lines)


class Fuzzer:
    """Sends generated cases of `schema` to `base_url` with `headers`, aimed at `world`."""

    def __init__(
        self, schema: BaseSchema, base_url: str, headers: dict[str, str], world: World
    ) -> None:
        self.schema = schema
        self.base_url = base_url
        self.headers = headers
        self.world = world

    def operations(self) -> list[Target]:
        """Every operation of the document."""
        found = [_ok(result) for result in self.schema.get_all_operations()]
        return [(operation.label, operation) for operation in found]

    def commands(self) -> list[Target]:
        """One operation per command of the generic command endpoints: the same route with its
        body narrowed to that command, so each command gets generated arguments (of the whole
        union of 50-odd, Hypothesis keeps drawing the first few)."""
        raw = self.schema.raw_schema
        found: list[Target] = []
        for path in _COMMAND_PATHS:
            operation = raw["paths"][path]["post"]
            content = operation["requestBody"]["content"]["application/json"]
            for ref in content["schema"]["oneOf"]:
                model = raw["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]
                one = {"application/json": {**content, "schema": ref}}
                body = {**operation["requestBody"], "content": one}
                narrowed = {**raw, "paths": {path: {"post": {**operation, "requestBody": body}}}}
                [result] = schemathesis.openapi.from_dict(narrowed).get_all_operations()
                command = model["properties"]["command"]["const"]
                found.append((f"{_ok(result).label} /{command}", _ok(result)))
        return found

    def run(self, mode: GenerationMode, max_examples: int, targets: list[Target]) -> Report:
        report = Report()
        with requests.Session() as session:
            for label, operation in targets:
                self._run_operation(label, operation, mode, max_examples, report, session)
        return report

    def _run_operation(
        self,
        label: str,
        operation: Operation,
        mode: GenerationMode,
        max_examples: int,
        report: Report,
        session: requests.Session,
    ) -> None:
        rnd = Random(f"{label} {mode.value}")
        strategy = aimed(operation.as_strategy(generation_mode=mode), self.world, rnd)

        @settings(
            max_examples=max_examples,
            derandomize=True,
            database=None,
            deadline=None,
            phases=(Phase.explicit, Phase.generate),
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def one(case: Case[Any]) -> None:
            report.cases[label] += 1
            self._send(label, case, report, session)

        started = time.monotonic()
        with contextlib.suppress(Unsatisfiable):  # negative: nothing here can be made invalid
            one()
        report.seconds[label] += time.monotonic() - started

    def _send(self, label: str, case: Case[Any], report: Report, session: requests.Session) -> None:
        try:
            response = case.call(base_url=self.base_url, session=session, headers=self.headers)
        except requests.RequestException as exc:  # the server dropped the connection
            report.add(Finding(label, f"no response: {type(exc).__name__}", None, str(exc)))
            return
        report.statuses[(label, response.status_code)] += 1
        try:
            case.validate_response(response, checks=list(CHECKS), headers=self.headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                report.add(Finding(label, failure.title, response.status_code, str(group)))


def _ok(result: Ok[Operation] | Err[InvalidSchema]) -> Operation:
    if isinstance(result, Err):
        raise AssertionError(f"the OpenAPI document has an invalid operation: {result.err()}")
    return result.ok()


def aimed(
    cases: st.SearchStrategy[Case[Any]], world: World, rnd: Random
) -> st.SearchStrategy[Case[Any]]:
    """`cases`, about 3 in 4 of them pointed at the world's projects and the ids those hold.

    The choices come from `rnd`, seeded per operation: a derandomized run draws the same cases
    in the same order, so it makes the same choices. (Hypothesis' own draws lean hard towards
    their simplest value: the first project, the first id, and for `st.randoms()` seed 0.)"""

    @st.composite
    def strategy(draw: st.DrawFn) -> Case[Any]:
        case = draw(cases)
        project_id = _aim_path(rnd, case, world)
        if isinstance(case.body, dict | list):
            case.body = _aim_body(rnd, case.body, world, project_id, None)
        _aim_headers(rnd, case)
        return case

    return strategy()


def _aim_path(rnd: Random, case: Case[Any], world: World) -> str | None:
    params: dict[str, Any] = dict(case.path_parameters or {})
    if "project_id" not in params or rnd.random() < _GENERATED:
        return None
    project_id = rnd.choice(world.projects)
    params["project_id"] = project_id
    for name, kind in _PATH_KINDS.items():
        real = world.of(project_id, kind)
        if name in params and real and rnd.random() >= _GENERATED:
            params[name] = rnd.choice(real)
    case.path_parameters = params
    return project_id


def _aim_headers(rnd: Random, case: Case[Any]) -> None:
    """Half the generated If-Match headers go (nearly every one names a stale or no version,
    so the write would stop there), and half the Idempotency-Keys become fresh ones (a key
    generated twice for different requests is refused as reused)."""
    headers = case.headers  # case-insensitive; schemathesis notices changes made in place
    if "If-Match" in headers and rnd.random() < 0.5:
        del headers["If-Match"]
    if "Idempotency-Key" in headers and rnd.random() < 0.5:
        headers["Idempotency-Key"] = f"fuzz-{rnd.getrandbits(64):016x}"


def _aim_body(
    rnd: Random, value: Any, world: World, project_id: str | None, key: str | None
) -> Any:
    if isinstance(value, dict):
        return {k: _aim_body(rnd, v, world, project_id, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_aim_body(rnd, v, world, project_id, key) for v in value]
    if not isinstance(value, str):
        return value
    if key == "project" and rnd.random() >= _GENERATED:
        return rnd.choice(world.projects)
    kinds = _ARG_KINDS.get(key or "", ())
    real = [i for kind in kinds for i in world.of(project_id, kind)] if project_id else []
    if real and ENTITY_ID.match(value) and rnd.random() >= _GENERATED:
        return rnd.choice(real)
    return value
