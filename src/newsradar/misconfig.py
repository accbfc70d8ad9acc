"""A served pass that finds its configuration invalid: one line, and a ``runs`` row saying why.

`newsradar serve` reads the configuration afresh for every pass, so an edit that breaks it
(invalid TOML, an unknown key, a watch that does not compile, a missing file) reaches a pass long
after serve checked it at start. That pass cannot run; it can still say why where people look:

    refusal = record_refusal(Path("config"), exc, served=served_database())
    logger.error(refusal.line)

Which database gets the row: the one the broken configuration still names when its ``[storage]``
table reads (where `newsradar report` and the analysts look once it is fixed), else the one
`newsradar serve` was started with (handed down to its runs in ``NEWSRADAR_SERVED_DATABASE``).
Only a database that exists is written: a mistyped path must not grow a new, empty database
whose one row nobody would look at. With neither, the line says that no row was written.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from newsradar.config import load_storage
from newsradar.errors import ConfigError, NewsradarError, one_line
from newsradar.pipeline import new_run_id
from newsradar.store import open_writer
from newsradar.store.activity import record_failed_run

__all__ = [
    "SERVED_DATABASE_ENV",
    "Refusal",
    "error_line",
    "failure_database",
    "record_refusal",
    "served_database",
]

# Set by `newsradar serve` to the database of the configuration it started with; its runs
# inherit the environment.
SERVED_DATABASE_ENV = "NEWSRADAR_SERVED_DATABASE"

# A pass holds the database only between its transactions, so a short wait gets in; a longer
# one would only delay the next pass.
LOCK_TIMEOUT = 5.0


@dataclass(frozen=True, slots=True)
class Refusal:
    # One line for the log: the configuration error as `newsradar run` prints it, and where
    # the refused pass was recorded (or why it was not).
    line: str
    # The `runs` row written, and where (None: none was).
    run_id: str | None
    database: Path | None


def error_line(error: ConfigError) -> str:
    """The line `newsradar run` prints for ``error``, however the message was wrapped."""
    return "configuration error: " + one_line(error)


def served_database() -> Path | None:
    """The database `newsradar serve` was started with, when this process is one of its runs."""
    value = os.environ.get(SERVED_DATABASE_ENV)
    return Path(value) if value else None


def failure_database(directory: Path, served: Path | None) -> Path | None:
    """Where to record a pass refused by the configuration in ``directory``, or None."""
    candidates = [] if served is None else [served]
    try:
        candidates.insert(0, load_storage(directory).database)
    except ConfigError:
        pass  # [storage] itself is unreadable: only the served database is known
    return next((path for path in candidates if path.is_file()), None)


def record_refusal(
    directory: Path, error: ConfigError, *, served: Path | None, now: datetime | None = None
) -> Refusal:
    """Record in ``runs`` that a pass did not run because of ``error``, where that is known."""
    now = now or datetime.now(UTC)
    message = error_line(error)
    database = failure_database(directory, served)
    if database is None:
        return Refusal(
            f"{message}; this pass did not run and no runs row was written (no database is "
            "known while [storage] cannot be read)",
            None,
            None,
        )
    run_id = new_run_id(now)
    try:
        with open_writer(database, lock_timeout=LOCK_TIMEOUT) as con:
            # A pass that never began: its row is begun and ended now, with no counts.
            record_failed_run(con, run_id, "failed", message[:1000], now)
    except (NewsradarError, duckdb.Error) as exc:
        problem = one_line(exc)[:300]
        return Refusal(
            f"{message}; this pass did not run, and recording it in {database} failed too "
            f"({problem})",
            None,
            database,
        )
    return Refusal(
        f"{message}; this pass did not run (runs row {run_id}, status failed, in {database})",
        run_id,
        database,
    )
