"""The matching engine's hot path compiled to C with mypyc, used only while it matches the sources.

Every ``make`` target runs ``python -m newsradar.native``: it compiles :data:`MODULES` (scanning,
folding, term rules, query evaluation, the matcher) into ``<sys.prefix>/newsradar-native/``,
never into the source tree, and records a hash of every source the compiled code was built
from: the compiled modules and each ``newsradar`` module they import at import time,
transitively. At import,
:func:`activate` puts that directory first on the package's search path only when every recorded
source is unchanged, so an edited module is never shadowed by an old build: it runs as pure
Python until the next build. Results are the same either way; the compiled form matches about
a fifth faster (``make bench``, matching stage).

Without a C compiler the build says so and the package stays pure Python. Set
``NEWSRADAR_PURE_PYTHON=1`` to run without the compiled modules.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

__all__ = [
    "DISABLE",
    "MODULES",
    "RECORD",
    "activate",
    "build_dir",
    "modules",
    "recorded",
    "sources",
    "status",
]

MODULES = (
    "newsradar.scanner",
    "newsradar.normalize",
    "newsradar.terms",
    "newsradar.evaluate",
    "newsradar.match",
)
DISABLE = "NEWSRADAR_PURE_PYTHON"
# The compiled modules' shared runtime library is the package module ``newsradar.hotpath__mypyc``.
GROUP = "newsradar.hotpath"
RECORD = "sources.json"

# How the current process runs the hot path, set by activate() (see ``newsradar version``).
status = "pure Python"


def build_dir() -> Path:
    """Where this interpreter's compiled modules live (one build per environment and Python)."""
    return Path(sys.prefix) / "newsradar-native" / sys.implementation.cache_tag


def activate(path: list[str], where: Path | None = None) -> str:
    """Put the compiled modules first on ``path`` (the package's ``__path__``) when current.

    Returns (and records in :data:`status`) how the hot path runs, with the fix when it is not
    compiled.
    """
    global status
    where = build_dir() if where is None else where
    if os.environ.get(DISABLE):
        status = f"pure Python ({DISABLE} is set)"
    elif (record := recorded(where)) is None or not all(map(Path.is_file, modules(where))):
        # A partial build would mix compiled and pure classes of one name: all or nothing.
        status = "pure Python (not compiled: run `make install`)"
    elif record != sources(record, Path(path[-1]).parent):
        status = "pure Python (sources changed since the last build: run `make install`)"
    else:
        path.insert(0, str(where / "newsradar"))
        status = "compiled with mypyc"
    return status


def modules(where: Path) -> list[Path]:
    """The extension files a complete build in ``where`` has: each module and their runtime."""
    names = [m.rpartition(".")[2] for m in (*MODULES, GROUP + "__mypyc")]
    return [where / "newsradar" / f"{name}{EXTENSION_SUFFIXES[0]}" for name in names]


def sources(names: Iterable[str], root: Path) -> dict[str, str]:
    """SHA-256 of each source (a path relative to ``root``); a missing file hashes to ""."""
    found = {}
    for name in names:
        try:
            found[name] = hashlib.sha256((root / name).read_bytes()).hexdigest()
        except OSError:
            found[name] = ""
    return found


def recorded(where: Path) -> dict[str, str] | None:
    try:
        recorded = json.loads((where / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(recorded, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in recorded.items()
    ):
        return None
    return recorded
