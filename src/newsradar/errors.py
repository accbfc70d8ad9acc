"""Every error newsradar raises on purpose.

The tree::

    NewsradarError                      root: the CLI turns any of these into one line
    ├── ConfigError                     invalid configuration (exit code 2)
    │   └── WatchlistError              a watch or query that does not compile
    ├── FetchError                      one HTTP request failed; ``kind`` names the class
    │   ├── TransientFetchError         timeout, connection, 5xx, 429: retried with back-off
    │   └── PermanentFetchError         404, blocked address, not a feed: recorded, not retried
    ├── ParseError                      a feed that could not be parsed at all (permanent)
    │   └── ParseTimeoutError           the parser was stopped at its time limit
    ├── ExtractError                    a page that could not be extracted (permanent)
    ├── StoreError                      database problems
    │   ├── StoreLockedError            another process holds the DuckDB file (transient)
    │   ├── QueryRefusedError           user SQL that is not allowed (permanent)
    │   └── QueryTimeoutError           user SQL interrupted at its time limit
    ├── AlertDeliveryError              a mail that could not be delivered
    │   ├── TransientDeliveryError      4xx, connection lost, timeout: retried with back-off
    │   ├── PermanentDeliveryError      5xx for the recipient or the message: marked failed
    │   └── DeliveryBlockedError        TLS or AUTH refused: fail closed, alerts stay pending
    └── RunLockedError                  another pass is already writing (transient)

Retries are decided by type: anything that is a :class:`Transient` may succeed later.
"""

from __future__ import annotations

import logging
import os

__all__ = [
    "AlertDeliveryError",
    "ConfigError",
    "DeliveryBlockedError",
    "ExtractError",
    "FetchError",
    "NewsradarError",
    "ParseError",
    "ParseTimeoutError",
    "PermanentDeliveryError",
    "PermanentFetchError",
    "QueryRefusedError",
    "QueryTimeoutError",
    "RunLockedError",
    "StoreError",
    "StoreLockedError",
    "Transient",
    "TransientDeliveryError",
    "TransientFetchError",
    "WatchlistError",
    "bug_message",
    "is_transient",
    "one_line",
]


class NewsradarError(Exception):
    """Root of every error newsradar raises deliberately."""


class Transient:
    """Marker mixin: the operation may succeed if tried again later."""


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` is worth retrying (used by Prefect ``retry_condition_fn``)."""
    return isinstance(exc, Transient)


def one_line(exc: BaseException) -> str:
    """The error's message on one line (for a log line or a ``runs`` row), or its class name."""
    return " ".join(str(exc).split()) or type(exc).__name__


def bug_message(exc: Exception) -> str:
    """What to record when one feed or page hit a bug: the pass goes on without it.

    With ``NEWSRADAR_DEBUG`` set the traceback is logged as well.
    """
    if os.environ.get("NEWSRADAR_DEBUG"):
        logging.getLogger("newsradar").error("bug on one item", exc_info=exc)
    return (
        f"newsradar failed here ({type(exc).__name__}: {exc}); this is a bug in newsradar, "
        "the pass went on without this item: set NEWSRADAR_DEBUG=1 to log the traceback "
        "and report it"
    )


class ConfigError(NewsradarError):
    """Invalid configuration: names the file, the key and the fix."""

    def __init__(self, file: str, key: str, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        where = f"{file}: {key}" if key else file
        super().__init__(f"{where}: {problem}")


class WatchlistError(ConfigError):
    """A watch that does not compile: names the file, the watch, the column and the fix."""

    def __init__(self, file: str, watch_id: str, problem: str, column: int | None = None) -> None:
        self.watch_id = watch_id
        self.column = column
        key = f"watch '{watch_id}'" + (f", column {column}" if column is not None else "")
        super().__init__(file, key, problem)


class FetchError(NewsradarError):
    """An HTTP request that failed.

    ``kind`` is one of the error classes stored in feed health: ``dns``, ``connect``,
    ``timeout``, ``deadline_exceeded``, ``tls_error``, ``http_4xx``, ``http_5xx``,
    ``too_large``, ``not_a_feed``, ``blocked_address``, ``bad_scheme``,
    ``too_many_redirects``, ``robots``, ``robots_unavailable``, ``unsupported_content_type``,
    ``rate_limited`` (429 or a host-wide Retry-After in force), ``http_3xx``, ``bad_url``,
    ``decode_error`` (a Content-Encoding that does not decode), ``protocol_error``, and
    ``internal_error`` (a bug met on one page; the pass goes on).
    """

    def __init__(self, kind: str, url: str, message: str, *, status: int | None = None) -> None:
        self.kind = kind
        self.url = url
        self.status = status
        super().__init__(f"{kind}: {url}: {message}")


class TransientFetchError(FetchError, Transient):
    """A fetch failure that may go away: timeouts, connection errors, 5xx, 429."""

    def __init__(
        self,
        kind: str,
        url: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(kind, url, message, status=status)
        # Seconds the server asked us to wait (Retry-After), when it said so.
        self.retry_after = retry_after


class PermanentFetchError(FetchError):
    """A fetch failure that will not go away by retrying: 4xx, blocked address, not a feed."""


class ParseError(NewsradarError):
    """A feed document that yielded nothing usable (``kind`` ``parse_error``)."""

    kind = "parse_error"


class ParseTimeoutError(ParseError):
    """The feed parser ran past its per-feed time limit and was stopped (``parse_timeout``)."""

    kind = "parse_timeout"


class ExtractError(NewsradarError):
    """Article extraction failed; ``kind`` is ``extract_timeout`` or ``extract_error``."""

    def __init__(self, kind: str, url: str, message: str) -> None:
        self.kind = kind
        self.url = url
        super().__init__(f"{kind}: {url}: {message}")


class StoreError(NewsradarError):
    """A database operation failed."""


class StoreLockedError(StoreError, Transient):
    """Another process holds the DuckDB file; try again later."""


class QueryRefusedError(StoreError):
    """User SQL that newsradar will not run (writes, file access, settings)."""


class QueryTimeoutError(StoreError):
    """User SQL that ran longer than its time limit and was interrupted."""


class AlertDeliveryError(NewsradarError):
    """A mail could not be delivered."""


class RunLockedError(NewsradarError, Transient):
    """Another monitoring pass holds the run lock."""


class TransientDeliveryError(AlertDeliveryError, Transient):
    """The mail may go through later: 4xx, a dropped connection, a timeout."""

    def __init__(self, message: str, *, server_down: bool = False) -> None:
        # True when the server could not be reached at all: later mails of the pass would fail too.
        self.server_down = server_down
        super().__init__(message)


class PermanentDeliveryError(AlertDeliveryError):
    """The server refused this recipient or this message for good (5xx)."""


class DeliveryBlockedError(AlertDeliveryError):
    """We refused to deliver: TLS could not be verified, AUTH failed or would go in clear text.

    Nothing is sent and the alerts stay pending until the operator fixes the configuration.
    """
