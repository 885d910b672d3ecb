"""One error root for the whole product; each subclass carries its HTTP status.

Business code raises these; the API renders them in one handler, the CLI and Discord print
their message. Expected conflicts are 409/412, never 500.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AlreadyDecided",
    "AlreadyExists",
    "AppError",
    "BadRequest",
    "CapacityExceeded",
    "Forbidden",
    "IdempotencyMismatch",
    "InvalidTransition",
    "NotFound",
    "PreconditionFailed",
    "PreconditionRequired",
    "Unauthorized",
    "VersionConflict",
]


class AppError(Exception):
    status_code = 500
    error_type = "internal_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {"type": self.error_type, "message": self.message, **self.details}


class BadRequest(AppError):
    status_code = 400
    error_type = "bad_request"


class Unauthorized(AppError):
    status_code = 401
    error_type = "unauthorized"


class Forbidden(AppError):
    status_code = 403
    error_type = "forbidden"


class NotFound(AppError):
    status_code = 404
    error_type = "not_found"


class VersionConflict(AppError):
    """Someone else wrote first and the bounded retries ran out."""

    status_code = 409
    error_type = "version_conflict"


class AlreadyExists(AppError):
    status_code = 409
    error_type = "already_exists"


class InvalidTransition(AppError):
    """The command is not allowed in the current state; `details` names what is."""

    status_code = 409
    error_type = "invalid_transition"


class AlreadyDecided(InvalidTransition):
    """An approval was decided before this decision arrived; nothing changed."""

    error_type = "already_decided"


class CapacityExceeded(AppError):
    status_code = 409
    error_type = "capacity_exceeded"


class IdempotencyMismatch(AppError):
    """An Idempotency-Key was reused for a different request."""

    status_code = 422
    error_type = "idempotency_key_reused"


class PreconditionFailed(AppError):
    """The client's If-Match no longer matches the stored version."""

    status_code = 412
    error_type = "precondition_failed"


class PreconditionRequired(AppError):
    status_code = 428
    error_type = "precondition_required"
