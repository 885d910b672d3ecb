"""Log files next to stderr (``logging.dir``): one file per process, rotated, deleted by age.

Each process writes its own file, ``<service>-<host>-<pid>.log``: rotating a file that several
processes append to loses or interleaves lines (each renames it under the others), so no two
processes ever share one. ``logging.rotation`` is ``daily`` (at midnight UTC), ``hourly``, or a
size such as ``100MB`` (a file is rotated once it has reached it). A rotated file keeps the name
with a suffix: the day (``.2026-11-26``), the hour (``.2026-11-26_14``) or the UTC time it was
rotated (``.20261126T141503``). At start and at each rotation, files of this naming in the folder
that were last written more than ``logging.retention_days`` ago are deleted, whichever process
wrote them (a stopped process' file included).
"""

from __future__ import annotations

import logging
import os
import re
import socket
import time
from dataclasses import dataclass
from logging.handlers import RotatingFileHandler, TimedRotatingFileHandler
from pathlib import Path
from typing import Literal

__all__ = [
    "LOG_FILE_HANDLERS",
    "ROTATIONS",
    "LogFileError",
    "LogFiles",
    "Rotation",
    "log_file_name",
    "open_log_file",
    "parse_rotation",
    "prune_old_logs",
]

ROTATIONS = "daily, hourly, or a size such as 100MB (units KB, MB, GB)"
_SIZE = re.compile(r"^(\d+)\s*(KB|MB|GB)$", re.IGNORECASE)
_UNITS = {"KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30}
_OUR_FILE = re.compile(r"^[a-z][a-z0-9_]*-.+-\d+\.log(?:\..+)?$")
_DAY_S = 86_400


class LogFileError(RuntimeError):
    """The log folder cannot be written; the message names it."""


@dataclass(frozen=True)
class Rotation:
    kind: Literal["daily", "hourly", "size"]
    max_bytes: int = 0


@dataclass(frozen=True)
class LogFiles:
    directory: Path
    rotation: Rotation
    retention_days: int


def parse_rotation(text: str) -> Rotation:
    """``daily``, ``hourly`` or ``<n>KB|MB|GB``; ValueError naming what is allowed otherwise."""
    value = text.strip().lower()
    if value in ("daily", "hourly"):
        return Rotation("daily" if value == "daily" else "hourly")
    match = _SIZE.match(value)
    if match is None or int(match.group(1)) == 0:
        raise ValueError(f"rotation {text!r} is not allowed; use {ROTATIONS}")
    return Rotation("size", int(match.group(1)) * _UNITS[match.group(2).upper()])


def log_file_name(service: str, host: str | None = None, pid: int | None = None) -> str:
    """``<service>-<host>-<pid>.log``, the host cut to characters safe in a file name."""
    host = re.sub(r"[^A-Za-z0-9_.-]", "_", host or socket.gethostname())
    return f"{service}-{host}-{pid or os.getpid()}.log"


def prune_old_logs(
    directory: Path, retention_days: int, now: float, keep: Path | None = None
) -> list[Path]:
    """Delete our log files in ``directory`` last written before ``now - retention_days``."""
    cutoff = now - retention_days * _DAY_S
    deleted = []
    for path in sorted(directory.iterdir()):
        if path == keep or not _OUR_FILE.match(path.name):
            continue
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_mtime < cutoff:
                path.unlink()
                deleted.append(path)
        except OSError:
            continue  # deleted meanwhile by another process' pruning
    return deleted


class _Pruning:
    """Deletes the folder's old files after each rotation."""

    baseFilename: str
    retention_days: int

    def prune(self) -> None:
        path = Path(self.baseFilename)
        prune_old_logs(path.parent, self.retention_days, time.time(), keep=path)


class TimedLogFile(_Pruning, TimedRotatingFileHandler):
    def __init__(self, path: Path, when: Literal["midnight", "H"], retention_days: int) -> None:
        super().__init__(path, when=when, utc=True, encoding="utf-8")
        self.retention_days = retention_days

    def doRollover(self) -> None:
        super().doRollover()
        self.prune()


class SizedLogFile(_Pruning, RotatingFileHandler):
    def __init__(self, path: Path, max_bytes: int, retention_days: int) -> None:
        super().__init__(path, maxBytes=max_bytes, encoding="utf-8")
        self.retention_days = retention_days

    def shouldRollover(self, record: logging.LogRecord) -> bool:
        """Once the file has reached the size (not formatting each line twice to see ahead)."""
        if self.stream is None:
            self.stream = self._open()
        return self.stream.tell() >= self.maxBytes

    def doRollover(self) -> None:
        if self.stream:
            self.stream.close()
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        target, n = Path(f"{self.baseFilename}.{stamp}"), 1
        while target.exists():
            n += 1
            target = Path(f"{self.baseFilename}.{stamp}-{n}")
        if os.path.exists(self.baseFilename):
            os.rename(self.baseFilename, target)
        self.stream = self._open()
        self.prune()


LOG_FILE_HANDLERS = (TimedLogFile, SizedLogFile)


def open_log_file(files: LogFiles, service: str) -> logging.FileHandler:
    """This process' handler in ``files.directory`` (created, owner-only); old files pruned."""
    path = files.directory / log_file_name(service)
    try:
        files.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        prune_old_logs(files.directory, files.retention_days, time.time())
        if files.rotation.kind == "size":
            return SizedLogFile(path, files.rotation.max_bytes, files.retention_days)
        when: Literal["midnight", "H"] = "midnight" if files.rotation.kind == "daily" else "H"
        return TimedLogFile(path, when, files.retention_days)
    except OSError as exc:
        raise LogFileError(
            f"cannot write log files in {files.directory} ({exc.strerror}): "
            "set logging.dir to a writable folder, or unset it to log to stderr only"
        ) from None
