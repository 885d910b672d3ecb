"""The container's entrypoint: ``api`` | ``worker`` | ``gateway`` | ``health [service]``.

The image runs ``python -m services.entrypoint <command> [args...]``; the process *becomes* the
chosen service (``exec``), so it is PID 1 and receives SIGTERM directly. Any other command runs
as given (``awf backup --dir /backups``, ``bash``), so one image serves every workload.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

__all__ = ["SERVICES", "command_for", "main"]

SERVICES = ("api", "worker", "gateway")
_USAGE = "usage: <api|worker|gateway> | health [api|worker|gateway] | <any command>"


def command_for(args: Sequence[str]) -> list[str]:
    """The argv to exec for the container arguments ``args`` (ValueError when empty)."""
    if not args:
        raise ValueError(_USAGE)
    name, *rest = args
    if name in SERVICES:
        return [sys.executable, "-m", f"services.{name}", *rest]
    if name == "health":
        return [sys.executable, "-m", "services.healthcheck", *rest]
    return list(args)


def main(argv: Sequence[str] | None = None) -> None:
    try:
        command = command_for(sys.argv[1:] if argv is None else argv)
    except ValueError as exc:
        sys.exit(str(exc))
    try:
        os.execvp(command[0], command)  # noqa: S606 - the container's command, by design
    except OSError as exc:
        sys.exit(f"cannot run {command[0]!r}: {exc.strerror}")


if __name__ == "__main__":
    main()
