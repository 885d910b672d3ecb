"""structlog on top of stdlib logging: one handler on the root logger, JSON or console lines.

Modules log with ``log = structlog.get_logger()`` and ``log.info("story_started", story_id=...)``;
bind request/job ids with ``structlog.contextvars.bind_contextvars(request_id=...)``. With
``logging.dir`` set, a second handler also writes the JSON lines to this process' own rotated
file (``shared.platform.log_files``), whatever the stderr format.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from shared.platform.log_files import (
    LOG_FILE_HANDLERS,
    LogFileError,
    LogFiles,
    open_log_file,
    parse_rotation,
)

if TYPE_CHECKING:
    from shared.platform.settings import Settings

__all__ = ["REDACTED", "configure_logging", "configure_service_logging", "redact_secrets"]

REDACTED = "[REDACTED]"
_SENSITIVE_KEY = re.compile(
    r"secret|passw(?:or)?d|authorization|cookie|credential|api[_-]?key|private[_-]?key"
    r"|encryption[_-]?key|(?:^|[_\-.])(?:token|dsn)(?:$|[_\-.])",
    re.IGNORECASE,
)
_ROUTED_TO_ROOT = ("uvicorn", "uvicorn.error", "uvicorn.access", "arq")


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at emit time (pytest swaps it per test)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: REDACTED if _is_sensitive(k) else _redact(v) for k, v in value.items()}
    return value


def _is_sensitive(key: object) -> bool:
    return isinstance(key, str) and key != "event" and bool(_SENSITIVE_KEY.search(key))


def redact_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Replace the value of any key named like a credential, nested mappings included."""
    redacted: EventDict = _redact(event_dict)
    return redacted


def _add_service(service: str) -> Processor:
    def add_service(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        event_dict.setdefault("service", service)
        return event_dict

    return add_service


def _formatter(
    shared: list[Processor], service: str, fmt: Literal["json", "console"]
) -> logging.Formatter:
    rendering: list[Processor]
    if fmt == "json":
        rendering = [structlog.processors.dict_tracebacks, structlog.processors.JSONRenderer()]
    else:
        rendering = [structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _add_service(service),
            redact_secrets,
            *rendering,
        ],
    )


def _replace_handlers(handlers: list[logging.Handler]) -> None:
    """Swap ours on the root logger (stderr, file) for ``handlers``; others are left alone."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, (_StderrHandler, *LOG_FILE_HANDLERS))]:
        root.removeHandler(old)
        if not isinstance(old, _StderrHandler):
            old.close()
    for handler in handlers:
        root.addHandler(handler)


def configure_logging(
    level: str,
    fmt: Literal["json", "console"],
    service: str,
    *,
    files: LogFiles | None = None,
) -> None:
    """Set up structlog and the stdlib root logger (stderr, and a JSON file with ``files``);
    calling it again replaces the previous setup. LogFileError when the folder is not writable."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
    ]
    handlers: list[logging.Handler] = [_StderrHandler()]
    handlers[0].setFormatter(_formatter(shared, service, fmt))
    if files is not None:
        handlers.append(open_log_file(files, service))
        handlers[1].setFormatter(_formatter(shared, service, "json"))
    _replace_handlers(handlers)
    logging.getLogger().setLevel(level.upper())
    for name in _ROUTED_TO_ROOT:
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def configure_service_logging(settings: Settings, service: str) -> None:
    """A service's setup from its settings' ``logging`` section; exits naming an unwritable dir."""
    section = settings.logging
    files = None
    if section.dir is not None:
        rotation = parse_rotation(section.rotation)  # validated with the settings
        files = LogFiles(section.dir, rotation, section.retention_days)
    try:
        configure_logging(section.level, section.format, service, files=files)
    except LogFileError as exc:
        raise SystemExit(f"Invalid settings:\nlogging.dir: {exc}") from None
