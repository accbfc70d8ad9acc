"""The only module that talks to DuckDB."""

from newsradar.store.connection import (
    is_database_file,
    open_reader,
    open_writer,
    require_database,
    transaction,
)
from newsradar.store.schema import migrate

__all__ = [
    "is_database_file",
    "migrate",
    "open_reader",
    "open_writer",
    "require_database",
    "transaction",
]
