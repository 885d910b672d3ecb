"""The session file `awf up` writes so later `awf` calls find the API: url, token, pids.

It lives at ``$XDG_STATE_HOME/awf/session.json`` (else ``~/.local/state/awf/session.json``), mode 0600
because it holds a bearer token and possibly the JWT secret.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Session",
    "pid_alive",
    "read_session",
    "remove_session",
    "session_path",
    "state_dir",
    "write_session",
]


@dataclass(frozen=True)
class Session:
    api_url: str
    token: str
    api_urls: list[str] = field(default_factory=list)
    redis_url: str | None = None
    pids: dict[str, int] = field(default_factory=dict)
    jwt_secret: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Session:
        return cls(
            api_url=str(data["api_url"]),
            token=str(data["token"]),
            api_urls=[str(u) for u in data.get("api_urls") or [data["api_url"]]],
            redis_url=data.get("redis_url"),
            pids={str(k): int(v) for k, v in (data.get("pids") or {}).items()},
            jwt_secret=data.get("jwt_secret"),
        )


def state_dir() -> Path:
    """``$XDG_STATE_HOME/awf``, else ``~/.local/state/awf``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "awf"


def session_path() -> Path:
    return state_dir() / "session.json"


def read_session(path: Path | None = None) -> Session | None:
    """The session of a running `awf up`, or None when there is none (or it is unreadable)."""
    target = path or session_path()
    try:
        return Session.from_dict(json.loads(target.read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_session(session: Session, path: Path | None = None) -> Path:
    """Write atomically with mode 0600 (the file holds a token)."""
    target = path or session_path()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = target.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(session), handle, indent=2)
    os.chmod(tmp, 0o600)
    tmp.replace(target)
    return target


def remove_session(path: Path | None = None) -> None:
    (path or session_path()).unlink(missing_ok=True)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
