"""One exception tree. Each error carries an HTTP status and a stable snake_case id."""

from __future__ import annotations

from typing import Any, ClassVar


class ConvoflowError(Exception):
    status: ClassVar[int] = 400
    default_error: ClassVar[str] = "bad_request"

    def __init__(self, message: str, *, error: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.error = error or self.default_error
        self.details = details


class InvalidInput(ConvoflowError):
    """A value breaks a rule (422 by default; `status=400` for malformed requests)."""

    status = 422
    default_error = "validation_error"


class MalformedRequest(ConvoflowError):
    status = 400
    default_error = "malformed_request"


class Unauthenticated(ConvoflowError):
    status = 401
    default_error = "unauthenticated"


class PermissionDenied(ConvoflowError):
    status = 403
    default_error = "permission_denied"


class NotFound(ConvoflowError):
    status = 404
    default_error = "not_found"


class Conflict(ConvoflowError):
    status = 409
    default_error = "conflict"


class Gone(ConvoflowError):
    status = 410
    default_error = "gone"


class PayloadTooLarge(ConvoflowError):
    status = 413
    default_error = "payload_too_large"


class RateLimited(ConvoflowError):
    status = 429
    default_error = "rate_limited"


class ContactBusy(ConvoflowError):
    status = 449
    default_error = "contact_busy"


def field_error(field: str, message: str, *, error: str = "validation_error") -> InvalidInput:
    """An InvalidInput naming one field, with the same details shape as request validation errors."""
    return InvalidInput(message, error=error, details=[{"field": field, "message": message}])


class WorkflowInvalid(InvalidInput):
    """A definition with configuration errors or a loop; `details` lists the problems (WF-BLD-06)."""

    default_error = "workflow_invalid"
