"""``newsradar version``."""

from __future__ import annotations

from newsradar import __version__
from newsradar.cli.app import app, console

__all__ = ["version"]


@app.command()
def version() -> None:
    """Print the installed version.

    Example: newsradar version
    """
    console.print(f"newsradar {__version__}")
