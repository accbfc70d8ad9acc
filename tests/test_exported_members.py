"""The public surface of every module is what its ``__all__`` says."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import newsradar

# Every module of the package (the demo's entry script aside) keeps its __all__ honest.
MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(newsradar.__path__, "newsradar.")
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
