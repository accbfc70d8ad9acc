"""The only module that talks to DuckDB."""

from newsradar.store.connection import open_reader, open_writer, transaction
from newsradar.store.schema import migrate

__all__ = ["migrate", "open_reader", "open_writer", "transaction"]
