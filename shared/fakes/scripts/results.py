"""Reading tool results the way a model would: file text, test reports, missing names.

The agent tools may answer in JSON (a TestRun, or ``{"content": ...}``) or in text (pytest's
output, line-numbered file text); both are understood.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["TestReport", "file_text", "missing_names", "parse_test_report", "wanted_names"]

_NUMBERED = re.compile(r"^\s*\d+(?:\t|: |\| |→)")
_NAME_PATTERNS = (
    re.compile(r"calculator\.(\w+) is not implemented"),
    re.compile(r"module 'calculator' has no attribute '(\w+)'"),
    re.compile(r"cannot import name '(\w+)' from 'calculator'"),
)
_USE_PATTERNS = (
    re.compile(r"_fn\(\s*[\"'](\w+)[\"']"),
    re.compile(r"getattr\(\s*calculator\s*,\s*[\"'](\w+)[\"']"),
    re.compile(r"calculator\.(\w+)\s*\("),
)
_FROM_IMPORT = re.compile(r"^from calculator import \(?([\w ,]+)\)?", re.MULTILINE)


def _json_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def file_text(result: str) -> str:
    """The file's text from a read_file result, without line numbers if the tool added them."""
    data = _json_object(result)
    if data is not None and isinstance(data.get("content"), str):
        return str(data["content"])
    lines = result.splitlines()
    numbered = [line for line in lines if line.strip()]
    if numbered and all(_NUMBERED.match(line) for line in numbered):
        lines = [_NUMBERED.sub("", line, count=1) if line.strip() else "" for line in lines]
        return "\n".join(lines) + "\n"
    return result


@dataclass(frozen=True)
class TestReport:
    """What a run_tests result says: green or not, which tests failed, and the raw text."""

    __test__ = False  # not a pytest test class

    green: bool
    failed_ids: tuple[str, ...]
    text: str

    @property
    def module_missing(self) -> bool:
        return "No module named 'calculator'" in self.text

    @property
    def import_error(self) -> bool:
        return bool(re.search(r"ImportError|ModuleNotFoundError|cannot import name", self.text))

    @property
    def syntax_error(self) -> bool:
        return "SyntaxError" in self.text or "IndentationError" in self.text


def _find_run(data: Any) -> dict[str, Any] | None:
    if isinstance(data, dict):
        if "exit_code" in data:
            return data
        return next((r for v in data.values() if (r := _find_run(v)) is not None), None)
    return None


def _from_run(run: dict[str, Any], raw: str) -> TestReport:
    tests = [t for t in run.get("tests") or [] if isinstance(t, dict)]
    bad = tuple(str(t.get("id")) for t in tests if t.get("outcome") in ("failed", "error"))
    green = run.get("green")
    if not isinstance(green, bool):
        green = run.get("exit_code") == 0 and not bad and not run.get("collection_errors")
    return TestReport(green=green and not run.get("timed_out"), failed_ids=bad, text=raw)


def _count(pattern: str, text: str) -> int:
    return sum(int(n) for n in re.findall(pattern, text))


def _from_text(text: str, is_error: bool) -> TestReport:
    bad = tuple(dict.fromkeys(re.findall(r"(?:FAILED|ERROR) (\S+::[^\s,]+)", text)))
    exit_code = re.search(r"exit[ _]code\W{1,3}(-?\d+)", text, re.IGNORECASE)
    failed = _count(r"(\d+) (?:failed|errors?)\b", text)
    if exit_code is not None:
        green = exit_code.group(1) == "0"
    else:
        green = _count(r"(\d+) passed", text) > 0 and not failed
    return TestReport(green=green and not is_error and not bad, failed_ids=bad, text=text)


def parse_test_report(result: str, *, is_error: bool = False) -> TestReport:
    run = _find_run(_json_object(result))
    return _from_text(result, is_error) if run is None else _from_run(run, result)


def missing_names(text: str) -> list[str]:
    """calculator functions a test output says are missing, in order of mention."""
    found = (m.group(1) for p in _NAME_PATTERNS for m in p.finditer(text))
    return list(dict.fromkeys(found))


def wanted_names(test_source: str) -> list[str]:
    """calculator functions a test file uses."""
    found = [m.group(1) for p in _USE_PATTERNS for m in p.finditer(test_source)]
    for group in _FROM_IMPORT.findall(test_source):
        found += [n.strip() for n in group.split(",") if n.strip()]
    return list(dict.fromkeys(found))
