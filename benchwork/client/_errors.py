"""Call errors, classified the same way on both client paths.

A refused connection is a transport error, not "HTTP 500" (litellm reports it as 500).
"""

from __future__ import annotations

__all__ = ["RETRYABLE_STATUS", "CallError", "error_type_for_status"]

#: HTTP statuses worth retrying: rate limits, timeouts and server-side failures.
RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})

_STATUS_TYPES = {
    400: "bad_request",
    401: "auth",
    403: "permission",
    404: "not_found",
    408: "timeout",
    413: "bad_request",
    422: "bad_request",
    429: "rate_limit",
}


def error_type_for_status(status: int) -> str:
    """Short error class for an HTTP status (``rate_limit``, ``server_error``, ...)."""
    if status in _STATUS_TYPES:
        return _STATUS_TYPES[status]
    return "server_error" if status >= 500 else "http_error"


class CallError(Exception):
    """One failed attempt: its class, HTTP status, message, and whether/when to retry."""

    def __init__(
        self,
        error_type: str,
        message: str,
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.http_status = http_status
        self.retry_after = retry_after
        if retryable is None:
            retryable = (
                http_status in RETRYABLE_STATUS
                if http_status is not None
                else error_type in ("timeout", "transport", "stream_cut")
            )
        self.retryable = retryable

    def __repr__(self) -> str:
        return f"CallError({self.error_type!r}, {self.message!r}, http_status={self.http_status})"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent/bad."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
