"""Failures a pass could not write to ``runs``, kept in a note beside the database.

    save_failure(database, UnrecordedFailure(run_id, "locked", message, at))
    for failure in load_failures(database): ...    # the next pass, under the run lock
    drop_failures(database)                        # once ``runs`` says it

A pass that stops on an error marks its row ``failed`` or ``locked``. When the database is
held by another process (or the disk refuses) at that moment it cannot, and the row would stay
``running`` until the next pass marked it ``interrupted``, as if nothing were known (and a pass
held off from the start, with no row yet, would not show at all). The note keeps what is known
(which pass, which status, the error, when) for the next pass to record.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from newsradar.atomic import write_atomic

__all__ = ["UnrecordedFailure", "drop_failures", "load_failures", "note_path", "save_failure"]


@dataclass(frozen=True, slots=True)
class UnrecordedFailure:
    run_id: str
    # ``failed`` or ``locked``, as ``runs.status`` would have said.
    status: str
    message: str
    # When the pass stopped: its ``finished_at``.
    at: datetime


def note_path(database: Path) -> Path:
    return database.with_name(database.name + ".unrecorded.json")


def load_failures(database: Path) -> tuple[UnrecordedFailure, ...]:
    """The failures noted so far, oldest first.

    A note that cannot be read is passed over: its rows are then marked ``interrupted``, which
    claims nothing, and the next note written replaces it.
    """
    try:
        items = json.loads(note_path(database).read_text(encoding="utf-8"))
        return tuple(
            UnrecordedFailure(
                str(i["run_id"]), str(i["status"]), str(i["message"]),
                datetime.fromisoformat(i["at"]),
            )
            for i in items
        )  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return ()


def save_failure(database: Path, failure: UnrecordedFailure) -> None:
    """Add ``failure`` to the note, which is replaced whole (never left half written).

    Raises ``OSError`` when the note cannot be written either.
    """
    kept = [f for f in load_failures(database) if f.run_id != failure.run_id]
    items = [{**asdict(f), "at": f.at.isoformat()} for f in [*kept, failure]]
    write_atomic(note_path(database), json.dumps(items, indent=1) + "\n")


def drop_failures(database: Path) -> None:
    """Remove the note once ``runs`` records what it held."""
    note_path(database).unlink(missing_ok=True)
