"""The public surface of the alerts stage is what __all__ says (encode/httpx style)."""

import importlib

import pytest

import newsradar.alerts

PUBLIC = {
    "newsradar.alerts": {
        "AlertRow", "DeliveryReport", "MatchedArticle", "deliver_pending", "plan_alerts",
        "queue_spikes",
    },
    "newsradar.store.alerts": {
        "AlertRow", "MatchRow", "PendingAlert", "StoryArticle", "claim_digest", "due_alerts",
        "load_articles", "load_copies", "load_matches", "mark_failed", "mark_retrying",
        "mark_sent", "note_blocked", "queue_alerts", "record_event",
    },
}  # fmt: skip


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_exported_members(module: str) -> None:
    mod = importlib.import_module(module)
    assert set(mod.__all__) == PUBLIC[module]
    for name in mod.__all__:
        assert getattr(mod, name).__module__.startswith("newsradar.")


def test_pipeline_contract_types_are_shared() -> None:
    from newsradar.store.alerts import AlertRow

    assert newsradar.alerts.AlertRow is AlertRow
