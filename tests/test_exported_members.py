"""The public surface of the fetch/feeds/health stages is what ``__all__`` says."""

from __future__ import annotations

import importlib

import pytest

MODULES = [
    "newsradar.fetch",
    "newsradar.fetch.client",
    "newsradar.fetch.guard",
    "newsradar.fetch.body",
    "newsradar.fetch.politeness",
    "newsradar.fetch.robots",
    "newsradar.feeds",
    "newsradar.health",
    "newsradar.opml",
    "newsradar.store.feeds",
    "newsradar.maintenance",
    "newsradar.monitor",
    "newsradar.progress",
    "newsradar.schedules",
    "newsradar.server",
    "newsradar.shutdown",
    "newsradar.store.activity",
]


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
