"""Compile the matching engine's hot path: ``python -m newsradar.native``."""

from newsradar.native.build import build

# A failed build is reported, not an error: the package runs as pure Python.
build()
