"""The public surface of every module is what its ``__all__`` says."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import newsradar

# Every module of the package's sources (the entry scripts aside) keeps its __all__ honest; the
# compiled hot path (newsradar.native) adds only modules of the same names and its runtime.
MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages([str(Path(newsradar.__file__).parent)], "newsradar.")
    if not m.name.endswith("__main__")
)


@pytest.mark.parametrize("name", MODULES)
def test_all_lists_public_members_that_exist(name: str) -> None:
    module = importlib.import_module(name)
    exported = set(module.__all__)
    assert all(hasattr(module, member) for member in exported)
    public = {
        n for n, v in vars(module).items()
        if not n.startswith("_") and getattr(v, "__module__", None) == name and callable(v)
    }  # fmt: skip
    assert public <= exported, f"{name}: add {sorted(public - exported)} to __all__ or rename"
