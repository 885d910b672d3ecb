"""The contract between the leader loop and what it runs: a term of office and the duty."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from shared.state.lease import Grant

__all__ = ["LeaderDuty", "Term"]


@dataclass
class Term:
    """One tenure: the grant (owner + fencing token) and until when it surely holds."""

    grant: Grant
    valid_until: float  # time.monotonic(); the lease cannot have expired before this

    def holds(self) -> bool:
        """A local check, no round trip: False once the lease may have expired (e.g. after a
        pause of the process), even before the next renewal notices."""
        return time.monotonic() < self.valid_until


class LeaderDuty(Protocol):
    """What the leader runs. ``start`` may take long (the lease is renewed meanwhile) and may be
    cancelled; ``stop`` must be idempotent and safe after a cancelled or failed ``start``."""

    async def start(self, term: Term) -> None: ...

    async def stop(self) -> None: ...
