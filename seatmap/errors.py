"""Errors that carry their own HTTP status and JSON body.

Every package raises subclasses of `SeatmapError`; one Starlette handler
(`httpkit.errors`) turns them into `{"error": code, "detail": ..., ...}`.
"""

from __future__ import annotations

from typing import Any


class SeatmapError(Exception):
    """Base of every error the project raises on purpose."""

    code = "error"
    status_code = 400

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def to_json(self) -> dict[str, Any]:
        """The JSON body sent to a client for this error."""
        return {"error": self.code, "detail": self.detail, **self.extra}


class BadRequest(SeatmapError):
    """The request is malformed: bad JSON, a missing or ill-typed field."""

    code = "bad_request"
    status_code = 400


class Unauthorized(SeatmapError):
    """A credential is missing, malformed, expired or wrongly signed."""

    code = "unauthorized"
    status_code = 401


class Forbidden(SeatmapError):
    """The credential is valid but does not allow this action."""

    code = "forbidden"
    status_code = 403


class NotFound(SeatmapError):
    """The named thing does not exist (or is not visible to the caller)."""

    code = "not_found"
    status_code = 404


class Gone(SeatmapError):
    """The thing existed but has ended: an expired or released hold."""

    code = "gone"
    status_code = 410


class PayloadTooLarge(SeatmapError):
    """The request body exceeds the configured limit."""

    code = "payload_too_large"
    status_code = 413


class Unprocessable(SeatmapError):
    """The request is well-formed but breaks a rule."""

    code = "unprocessable"
    status_code = 422


class RateLimited(SeatmapError):
    """Too many requests; `retry_after_s` tells the client when to come back."""

    code = "rate_limited"
    status_code = 429

    def __init__(self, detail: str, retry_after_s: int, **extra: Any) -> None:
        super().__init__(detail, retry_after_s=retry_after_s, **extra)
        self.retry_after_s = retry_after_s


class ServiceUnavailable(SeatmapError):
    """A backing service (Redis, PostgreSQL) cannot be reached right now."""

    code = "service_unavailable"
    status_code = 503

    def __init__(self, detail: str, retry_after_s: int = 2, **extra: Any) -> None:
        super().__init__(detail, retry_after_s=retry_after_s, **extra)
        self.retry_after_s = retry_after_s


class VenueFormatError(SeatmapError):
    """A venue file is invalid; `path` names the place in the file (JSON path)."""

    code = "venue_format"
    status_code = 422

    def __init__(self, detail: str, path: str = "$", file: str = "") -> None:
        super().__init__(detail, path=path)
        self.path = path
        self.file = file

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        return f"{where}{self.path}: {self.detail}"
