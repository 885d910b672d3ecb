"""Settings safe to write down: every secret replaced, credentials cut out of URLs.

Backups keep the effective configuration next to the data, so an operator sees what the stack
ran with; none of it may carry a secret. Three nets: every `SecretStr`, any text field whose name
says secret, and the user-info and password-like query values of any URL.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import SecretStr

from shared.platform.settings import Settings

__all__ = ["REDACTED", "mask_url", "redacted_settings"]

REDACTED = "REDACTED"
_SECRET_NAME = re.compile(r"secret|passw|token|api_?key|dsn|private|credential", re.IGNORECASE)


def redacted_settings(settings: Settings) -> dict[str, Any]:
    """The settings as plain data with secrets replaced by ``REDACTED`` (unset ones stay null)."""
    redacted: dict[str, Any] = _redact(settings.model_dump(mode="python"), "")
    return redacted


def mask_url(text: str) -> str:
    """`text` with a URL's user info and secret-named query values replaced; other text as is."""
    try:
        split = urlsplit(text)
    except ValueError:
        return text
    if not (split.scheme and split.netloc):
        return text
    netloc = split.netloc
    if "@" in netloc:
        netloc = f"{REDACTED}@{netloc.rpartition('@')[2]}"
    query = urlencode(
        [(k, REDACTED if _SECRET_NAME.search(k) else v) for k, v in parse_qsl(split.query)],
        safe=":/",
    )
    return urlunsplit((split.scheme, netloc, split.path, query, split.fragment))


def _redact(value: Any, name: str) -> Any:
    if isinstance(value, SecretStr):
        return REDACTED
    if isinstance(value, dict):
        return {key: _redact(item, str(key)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(item, name) for item in value]
    if isinstance(value, str):
        return REDACTED if _SECRET_NAME.search(name) else mask_url(value)
    return value
