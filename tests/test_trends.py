import importlib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from newsradar.config import load_config
from newsradar.identity import stable_id
from newsradar.trends import (
    Spike,
    build_series,
    detect_spikes,
    parse_spike_story_id,
    plan_spike_alerts,
    spike_story_id,
)
from tests.conftest import write_config

D0 = date(2026, 11, 1)


@pytest.mark.parametrize(
    ("baseline", "today", "k", "min_count", "spike"),
    [
        # Flat baseline of 4: stdev 0, so anything over 4 exceeds it; 5 passes min_count 5.
        ([4] * 14, 5, 3.0, 5, True),
        ([4] * 14, 4, 3.0, 5, False),  # equal to the mean is not "exceeds"
        # 1 -> 3 is a jump but under the minimum count.
        ([1] * 14, 3, 3.0, 5, False),
        ([1] * 14, 3, 3.0, 3, True),
        # Noisy baseline 2, 6, 2, 6... (mean 4, stdev 2): threshold 10 with k=3.
        ([2, 6] * 7, 10, 3.0, 5, False),
        ([2, 6] * 7, 11, 3.0, 5, True),
        ([2, 6] * 7, 9, 2.0, 5, True),  # k=2: threshold 8
        # Quiet watch, first story ever: never below min_count.
        ([0] * 14, 1, 3.0, 5, False),
        ([0] * 14, 12, 3.0, 5, True),
    ],
)
def test_spike_rule(baseline: list[int], today: int, k: float, min_count: int, spike: bool) -> None:
    counts = {D0 + timedelta(days=i): n for i, n in enumerate([*baseline, today])}
    last = D0 + timedelta(days=14)
    series = build_series("w", counts, D0, last)
    scan = detect_spikes(series, observed_from=D0, k=k, min_count=min_count, judge_from=last)
    assert [s.day for s in scan.spikes] == ([last] if spike else [])
    assert scan.judged_from == last
    assert scan.note == ""


def test_missing_days_count_as_zero_and_the_spike_carries_its_baseline() -> None:
    series = build_series("w", {D0: 2, D0 + timedelta(days=20): 9}, D0, D0 + timedelta(days=20))
    assert len(series.days) == 21 and series.total == 11 and series.counts[1] == 0
    scan = detect_spikes(series, observed_from=D0, k=3, min_count=5)
    (spike,) = scan.spikes
    assert spike == Spike("w", D0 + timedelta(days=20), 9, 0.0, 0.0, 0.0)
    assert spike.story_id == "spike:w:2026-11-21"
    assert set(scan.thresholds) == {D0 + timedelta(days=i) for i in range(14, 21)}


def test_the_day_after_a_spike_is_judged_against_a_baseline_that_contains_it() -> None:
    counts = {D0 + timedelta(days=i): 4 for i in range(16)} | {D0 + timedelta(days=14): 30}
    scan = detect_spikes(
        build_series("w", counts, D0, D0 + timedelta(days=15)),
        observed_from=D0,
        k=3,
        min_count=5,
    )
    assert [s.day for s in scan.spikes] == [D0 + timedelta(days=14)]
    assert scan.thresholds[D0 + timedelta(days=15)] > 4


@pytest.mark.parametrize(
    ("observed_days", "needle", "judged"),
    [
        (None, "holds no stories yet", None),
        (0, "has 1 day of history", None),
        (5, "has 6 days of history", None),
        (14, "", date(2026, 11, 15)),
    ],
)
def test_young_database_says_so_instead_of_guessing(
    observed_days: int | None, needle: str, judged: date | None
) -> None:
    end = D0 + timedelta(days=14)
    observed = None if observed_days is None else end - timedelta(days=observed_days)
    counts = {} if observed is None else {observed: 9, end: 50}
    series = build_series("w", counts, end - timedelta(days=20), end)
    scan = detect_spikes(series, observed_from=observed, k=3, min_count=5, judge_from=end)
    assert scan.judged_from == judged
    assert needle in scan.note
    if needle:
        assert scan.spikes == ()
        assert "14 days" in scan.note
    else:
        assert [s.day for s in scan.spikes] == [end]


def test_partly_judged_period_names_the_first_judged_day() -> None:
    end = D0 + timedelta(days=19)
    scan = detect_spikes(
        build_series("w", {D0: 1}, D0, end), observed_from=D0, k=3, min_count=5, judge_from=D0
    )
    assert scan.judged_from == D0 + timedelta(days=14)
    assert "days before 2026-11-15" in scan.note


def test_baseline_days_is_configurable() -> None:
    counts = {D0 + timedelta(days=i): 2 for i in range(7)} | {D0 + timedelta(days=7): 10}
    series = build_series("w", counts, D0, D0 + timedelta(days=7))
    assert detect_spikes(series, observed_from=D0, k=3, min_count=5).spikes == ()
    short = detect_spikes(series, observed_from=D0, k=3, min_count=5, baseline_days=7)
    assert [s.count for s in short.spikes] == [10]


WATCHES = (
    '[[watch]]\nid = "nato"\nterms = ["NATO"]\nrecipients = ["desk@example.org"]\n\n'
    '[[watch]]\nid = "dprk"\nterms = ["North Korea"]\n'
)


def test_plan_spike_alerts_one_row_per_recipient_with_stable_ids(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, feeds="", watchlist=WATCHES))
    now = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    day = date(2026, 11, 28)
    spikes = [
        Spike("nato", day, 20, 4.0, 1.0, 7.0),
        Spike("dprk", day, 9, 1.0, 1.0, 4.0),
        Spike("gone", day, 9, 1.0, 1.0, 4.0),  # no longer configured: nobody to tell
    ]
    rows = plan_spike_alerts(config, spikes, now)
    assert [(r.recipient, r.watch_id, r.story_id, r.kind) for r in rows] == [
        ("desk@example.org", "nato", "spike:nato:2026-11-28", "spike"),
        ("analyst@example.org", "dprk", "spike:dprk:2026-11-28", "spike"),
    ]
    assert rows[0].id == stable_id(
        "alert", "desk@example.org", "nato", "spike:nato:2026-11-28", "spike"
    )
    assert all(r.due_at is None and r.created_at == now for r in rows)
    later = plan_spike_alerts(config, spikes, now + timedelta(hours=1))
    assert [r.id for r in later] == [r.id for r in rows]
    due = plan_spike_alerts(config, spikes[:1], now, due=lambda rcpt, w: now + timedelta(hours=2))
    assert due[0].due_at == now + timedelta(hours=2)


@pytest.mark.parametrize(
    ("story_id", "parsed"),
    [
        (spike_story_id("north-korea", date(2026, 1, 2)), ("north-korea", date(2026, 1, 2))),
        ("story-123", None),
        ("spike:nato:not-a-date", None),
        ("spike::2026-01-02", None),
    ],
)
def test_parse_spike_story_id(story_id: str, parsed: tuple[str, date] | None) -> None:
    assert parse_spike_story_id(story_id) == parsed


@pytest.mark.parametrize(
    "name",
    [
        "newsradar.trends",
        "newsradar.spikes",
        "newsradar.charts",
        "newsradar.report",
        "newsradar.store.trends",
    ],
)
def test_public_surface_is_what_all_lists(name: str) -> None:
    module = importlib.import_module(name)
    exported = set(module.__all__)
    assert len(exported) == len(module.__all__) and all(hasattr(module, n) for n in exported)
    defined = {
        n
        for n, v in vars(module).items()
        if not n.startswith("_") and callable(v) and getattr(v, "__module__", "") == name
    }
    assert defined <= exported, f"public but not in __all__: {sorted(defined - exported)}"
