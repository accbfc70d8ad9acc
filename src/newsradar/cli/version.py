"""``newsradar version``."""

from __future__ import annotations

from newsradar import __version__, native
from newsradar.cli.app import app, console

__all__ = ["version"]


@app.command()
def version() -> None:
    """Print the installed version and whether the matching engine runs compiled.

    Example: newsradar version
    """
    console.print(f"newsradar {__version__}", highlight=False)
    console.print(f"matching engine: {native.status}", highlight=False, markup=False)
