"""The pytest JUnit report (``junit_family=xunit1``) read back as per-test outcomes.

A failure's kind (assertion, import, syntax, name, timeout, other) comes from the report's
exception type, or from its message and traceback text when pytest leaves the type out; the
evidence gates rest on it (TEST_RED must fail by assertion, not by an import error).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # parses our pytest's report, size-capped
from pathlib import Path, PurePosixPath

from shared.domain.evidence import FailureKind, Outcome, TestOutcome

__all__ = ["classify_failure", "parse_junit"]

_MAX_JUNIT_BYTES = 20_000_000
_MAX_MESSAGE = 2000

_EXC_NAMES: dict[str, FailureKind] = {
    "AssertionError": FailureKind.ASSERTION,
    "Failed": FailureKind.ASSERTION,
    "ImportError": FailureKind.IMPORT,
    "ModuleNotFoundError": FailureKind.IMPORT,
    "SyntaxError": FailureKind.SYNTAX,
    "IndentationError": FailureKind.SYNTAX,
    "TabError": FailureKind.SYNTAX,
    "NameError": FailureKind.NAME,
    "UnboundLocalError": FailureKind.NAME,
    "AttributeError": FailureKind.NAME,
}
_LOCATION_EXC = re.compile(r"^\S.*:\d+: ([A-Za-z_][\w.]*)$")  # tests/test_a.py:3: AssertionError
_E_LINE_EXC = re.compile(r"^E\s+([A-Za-z_][\w.]*)(?::|$)")  # E   ModuleNotFoundError: No module…
_MESSAGE_EXC = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Failed|Exit)):")


def classify_failure(exc_type: str | None, message: str, text: str) -> FailureKind:
    """The kind of a failure from the report's ``type``, ``message`` and traceback text."""
    name = exc_type or _exception_name(message, text)
    if name:
        short = name.rsplit(".", 1)[-1]
        if short in _EXC_NAMES:
            return _EXC_NAMES[short]
        if "timeout" in short.lower():
            return FailureKind.TIMEOUT
        return FailureKind.OTHER
    if "ImportError while importing" in text:
        return FailureKind.IMPORT
    if message.startswith("assert"):
        return FailureKind.ASSERTION
    return FailureKind.OTHER


def _exception_name(message: str, text: str) -> str | None:
    lines = text.strip().splitlines()
    if lines and (m := _LOCATION_EXC.match(lines[-1].strip())):
        return m.group(1)
    for line in reversed(lines):
        if m := _E_LINE_EXC.match(line):
            return m.group(1)
    if m := _MESSAGE_EXC.match(message):
        return m.group(1)
    return None


def parse_junit(report: Path, root: Path) -> tuple[list[TestOutcome], list[str]]:
    """Per-test outcomes and the ids of modules that failed to collect, from a JUnit report
    written by pytest (``junit_family=xunit1``); empty when the report is missing or broken."""
    try:
        if report.stat().st_size > _MAX_JUNIT_BYTES:
            return [], []
        tree = ET.parse(report)  # noqa: S314 - our pytest's report; expat refuses entity bombs
    except (OSError, ET.ParseError):
        return [], []
    tests: list[TestOutcome] = []
    collection_errors: list[str] = []
    for case in tree.getroot().iter("testcase"):
        outcome = _case_outcome(case, root)
        tests.append(outcome)
        if outcome.outcome is Outcome.ERROR and _is_collection_error(case):
            collection_errors.append(outcome.id)
    return tests, collection_errors


def _is_collection_error(case: ET.Element) -> bool:
    error = case.find("error")
    return error is not None and error.get("message", "") == "collection failure"


def _case_outcome(case: ET.Element, root: Path) -> TestOutcome:
    node_id = _node_id(case, root)
    duration = _float(case.get("time"))
    for tag, outcome in (("failure", Outcome.FAILED), ("error", Outcome.ERROR)):
        element = case.find(tag)
        if element is not None:
            message = element.get("message", "")
            text = element.text or ""
            kind = classify_failure(element.get("type"), message, text)
            if tag == "error" and message == "collection failure":
                message = _collection_message(text)
            return TestOutcome(
                id=node_id,
                outcome=outcome,
                kind=kind,
                message=message[:_MAX_MESSAGE],
                duration_s=duration,
            )
    skipped = case.find("skipped")
    if skipped is not None:
        message = skipped.get("message", "")[:_MAX_MESSAGE]
        return TestOutcome(
            id=node_id, outcome=Outcome.SKIPPED, message=message, duration_s=duration
        )
    return TestOutcome(id=node_id, outcome=Outcome.PASSED, duration_s=duration)


def _collection_message(text: str) -> str:
    """The exception line(s) of a collection traceback, e.g. ``ModuleNotFoundError: No module…``."""
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    return " | ".join(errors[-3:]) if errors else "collection failure"


def _node_id(case: ET.Element, root: Path) -> str:
    """The pytest node id: ``path::Class::name`` from xunit1's ``file``, or guessed from the
    dotted ``classname`` (``tests.test_a.TestK``) by finding the module file on disk."""
    classname = case.get("classname", "")
    name = case.get("name", "")
    file = case.get("file")
    if not classname:  # collection error: name is the dotted module
        return file or _module_path(name.split("."), root)[0]
    parts = classname.split(".")
    if file:
        module = PurePosixPath(file).with_suffix("").parts
        if tuple(parts[: len(module)]) == module:
            return "::".join([file, *parts[len(module) :], name])
    path, classes = _module_path(parts, root)
    return "::".join([path, *classes, name])


def _module_path(parts: list[str], root: Path) -> tuple[str, list[str]]:
    for i in range(len(parts), 0, -1):
        candidate = "/".join(parts[:i]) + ".py"
        if (root / candidate).is_file():
            return candidate, parts[i:]
    return "/".join(parts) + ".py", []


def _float(value: str | None) -> float:
    try:
        return round(float(value or 0), 3)
    except ValueError:
        return 0.0
