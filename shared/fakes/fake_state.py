"""The fake server's mutable state: the fault queue and the call statistics.

Guarded by a lock, because a test thread may inject faults directly while the server's own
thread serves requests.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FakeState", "Fault", "FaultKind"]


class FaultKind(StrEnum):
    RATE_LIMITED = "429"
    OVERLOADED = "529"
    SERVER_ERROR = "500"
    SLOW = "slow"
    MALFORMED_TOOL_INPUT = "malformed_tool_input"


class Fault(BaseModel):
    """The body of ``POST /_fake/faults``: applies to the next ``count`` /v1/messages calls."""

    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    count: int = Field(default=1, ge=1, le=10_000)
    retry_after_s: float = Field(default=1.0, ge=0.0, le=3600.0)
    delay_s: float = Field(default=1.0, ge=0.0, le=3600.0)


@dataclass
class FakeState:
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _faults: list[Fault] = field(default_factory=list)
    _calls: int = 0
    _streamed: int = 0
    _by_role: Counter[str] = field(default_factory=Counter)
    _by_status: Counter[int] = field(default_factory=Counter)
    _faults_applied: Counter[str] = field(default_factory=Counter)
    _input_tokens: int = 0
    _output_tokens: int = 0

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def take_fault(self) -> Fault | None:
        """The fault for this call, consuming one unit of the queue's head."""
        with self._lock:
            if not self._faults:
                return None
            head = self._faults[0]
            if head.count <= 1:
                self._faults.pop(0)
            else:
                self._faults[0] = head.model_copy(update={"count": head.count - 1})
            self._faults_applied[head.kind.value] += 1
            return head

    def record(
        self, role: str, status: int, tokens: tuple[int, int] = (0, 0), *, streamed: bool = False
    ) -> None:
        with self._lock:
            self._calls += 1
            self._streamed += streamed
            self._by_role[role] += 1
            self._by_status[status] += 1
            self._input_tokens += tokens[0]
            self._output_tokens += tokens[1]

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "calls": self._calls,
                "streamed": self._streamed,
                "by_role": dict(self._by_role),
                "by_status": {str(k): v for k, v in self._by_status.items()},
                "input_tokens": self._input_tokens,
                "output_tokens": self._output_tokens,
                "faults_applied": dict(self._faults_applied),
                "faults_pending": [f.model_dump(mode="json") for f in self._faults],
            }
