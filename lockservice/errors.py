"""Errors of the lock service; `httpkit.errors` renders each as `{"error": code, ...}`."""

from __future__ import annotations

from typing import Any

from seatmap.errors import Gone, NotFound, SeatmapError, Unprocessable


class HoldConflict(SeatmapError):
    """Some requested seats are not available (409); `seats` lists their labels."""

    code = "seats_taken"
    status_code = 409

    def __init__(self, seats: list[str], detail: str = "some seats are already taken") -> None:
        super().__init__(detail, seats=seats)
        self.seats = seats


class NoSeatsAvailable(SeatmapError):
    """Best-available found no block that fits (409)."""

    code = "no_seats_available"
    status_code = 409


class ConfirmInProgress(SeatmapError):
    """The hold is being confirmed under another idempotency key (409)."""

    code = "confirm_in_progress"
    status_code = 409


class RuleViolation(Unprocessable):
    """A hold breaks an event rule (422); `code` names the rule."""

    def __init__(
        self, rule: str, detail: str, alternative: list[str] | None = None, **extra: Any
    ) -> None:
        if alternative:
            extra["alternative"] = alternative
        super().__init__(detail, **extra)
        self.code = rule
        self.rule = rule


class UnknownSeats(Unprocessable):
    """Some requested seat ids or labels do not exist in the venue (422)."""

    code = "unknown_seats"

    def __init__(self, seats: list[str]) -> None:
        super().__init__("some seats do not exist in this venue", seats=seats)


class IdempotencyMismatch(Unprocessable):
    """An Idempotency-Key was reused with a different request (422)."""

    code = "idempotency_key_reused"


class NotHoldOwner(NotFound):
    """No such hold for this buyer: unknown, or someone else's (404, never 403)."""

    code = "hold_not_found"

    def __init__(self, detail: str = "no such hold") -> None:
        super().__init__(detail)


class HoldGone(Gone):
    """The hold existed but has ended: expired, released or already sold (410)."""

    code = "hold_gone"

    def __init__(self, state: str) -> None:
        super().__init__(f"the hold has ended ({state})", state=state)
        self.state = state


class BackupRejected(Unprocessable):
    """A backup file that is damaged, truncated, of another version or inconsistent (422)."""

    code = "backup_rejected"


class RestoreConflict(SeatmapError):
    """A restore would overwrite an existing event and was not asked to replace it (409)."""

    code = "restore_conflict"
    status_code = 409
