"""The error tree. Every interface (CLI exit code, HTTP status, API envelope `type`) maps errors here, once.

    UsageLedgerError                      exit 1   HTTP 500  internal_error
    ├── UsageError                        exit 2   HTTP 400  invalid_request
    │   └── ConfigError                   exit 2   HTTP 500  config_error
    ├── CredentialError                   exit 3   HTTP 400  credential_error
    │   ├── MalformedKeyError                                 (not an Admin key shape)
    │   ├── StandardKeyError                                  (sk-ant-api… instead of sk-ant-admin…)
    │   └── InvalidKeyError                                   (401: wrong or revoked)
    ├── PermissionDeniedError             exit 4   HTTP 403  permission_error
    │   └── EndpointUnavailableError                          (404: this organization has no such endpoint)
    ├── UpstreamError                     exit 5   HTTP 502  upstream_error
    │   ├── RateLimitedError                                  (429 after retries)
    │   └── MalformedResponseError                            (bad JSON, repeated cursor, missing fields)
    ├── NotFoundError                     exit 6   HTTP 404  not_found
    ├── ConflictError                     exit 7   HTTP 409  conflict (a sync of this connection is running)
    │   └── SyncStoppedError                                  (disconnected or key replaced mid-sync)
    ├── ScrubPendingError                 exit 8   HTTP 503  scrub_pending (a deleted key's bytes are
    │                                                         still on disk; retried automatically)
    └── DatabaseUnavailableError          exit 9   HTTP 503  database_unavailable (the database refused
                                                              a connection or a write: down, full, read-only)

Messages say what to do next and never contain a key.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConflictError",
    "CredentialError",
    "DatabaseUnavailableError",
    "EndpointUnavailableError",
    "InvalidKeyError",
    "MalformedKeyError",
    "MalformedResponseError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ScrubPendingError",
    "StandardKeyError",
    "SyncStoppedError",
    "UpstreamError",
    "UsageError",
    "UsageLedgerError",
]


class UsageLedgerError(Exception):
    """Root of every error usageledger raises on purpose."""

    exit_code = 1
    http_status = 500
    type = "internal_error"
    event_kind = "error"

    def __init__(self, message: str, *, request_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request_id = request_id


class UsageError(UsageLedgerError):
    exit_code = 2
    http_status = 400
    type = "invalid_request"


class ConfigError(UsageError):
    http_status = 500
    type = "config_error"


class CredentialError(UsageLedgerError):
    exit_code = 3
    http_status = 400
    type = "credential_error"
    event_kind = "credential"


class MalformedKeyError(CredentialError):
    pass


class StandardKeyError(CredentialError):
    pass


class InvalidKeyError(CredentialError):
    pass


class PermissionDeniedError(UsageLedgerError):
    exit_code = 4
    http_status = 403
    type = "permission_error"
    event_kind = "scope"


class EndpointUnavailableError(PermissionDeniedError):
    pass


class UpstreamError(UsageLedgerError):
    exit_code = 5
    http_status = 502
    type = "upstream_error"
    event_kind = "upstream_error"


class RateLimitedError(UpstreamError):
    type = "rate_limited"
    event_kind = "rate_limit"

    def __init__(
        self, message: str, *, request_id: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.retry_after = retry_after


class MalformedResponseError(UpstreamError):
    type = "malformed_response"


class NotFoundError(UsageLedgerError):
    exit_code = 6
    http_status = 404
    type = "not_found"


class ConflictError(UsageLedgerError):
    exit_code = 7
    http_status = 409
    type = "conflict"


class SyncStoppedError(ConflictError):
    """The sync lost its right to run: the connection was disconnected or its key replaced meanwhile."""

    event_kind = "sync_failed"


class ScrubPendingError(UsageLedgerError):
    """A deleted key can no longer be used, but its encrypted bytes could not be removed from disk yet."""

    exit_code = 8
    http_status = 503
    type = "scrub_pending"


class DatabaseUnavailableError(UsageLedgerError):
    """The database could not be reached or written (server down, disk full or read-only, I/O error)."""

    exit_code = 9
    http_status = 503
    type = "database_unavailable"
