from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest

from newsradar.config import Config, load_config
from newsradar.spikes import describe_spikes, queue_spike_alerts, recent_spikes, scan_watches
from newsradar.store import open_reader, open_writer
from tests.trends_data import build_trends_db, trends_config_text

SPIKE_DAY = date(2026, 11, 20)


def planted_config(tmp_path: Path, *, last_day: date, days: int = 30) -> Config:
    database = tmp_path / "trends.duckdb"
    build_trends_db(database, last_day=last_day, days=days, spike_day=SPIKE_DAY)
    directory = tmp_path / "config"
    directory.mkdir()
    for name, text in trends_config_text(database).items():
        (directory / name).write_text(text)
    return load_config(directory)


def spike_rows(config: Config) -> list[tuple[str, str, str, str]]:
    with open_reader(config.storage.database, lock_timeout=5) as con:
        return [
            tuple(row)
            for row in con.execute(
                "SELECT recipient, watch_id, story_id, status FROM alerts WHERE kind = 'spike'"
                " ORDER BY ALL"
            ).fetchall()
        ]


def test_planted_spike_is_found_and_alerted_once(tmp_path: Path) -> None:
    config = planted_config(tmp_path, last_day=SPIKE_DAY + timedelta(days=9))
    with open_reader(config.storage.database, lock_timeout=5) as con:
        scans = scan_watches(
            con, config, ["nato"], SPIKE_DAY - timedelta(days=14), SPIKE_DAY + timedelta(days=9)
        )
    series, scan = scans["nato"]
    assert [(s.day, s.count) for s in scan.spikes] == [(SPIKE_DAY, 25)]
    assert scan.spikes[0].threshold < 10
    assert len(series.days) == 24

    # The pass running late on the spike day queues it, for each recipient of the watch.
    evening = datetime.combine(SPIKE_DAY, time(23, 0), tzinfo=UTC)
    with open_writer(config.storage.database, lock_timeout=5) as con:
        assert {s.watch_id for s in recent_spikes(con, config, evening)} >= {"nato"}
        first = queue_spike_alerts(con, config, evening)
    rows = spike_rows(config)
    nato = [r for r in rows if r[1] == "nato"]
    assert nato == [
        ("analyst@example.org", "nato", "spike:nato:2026-11-20", "pending"),
        ("nato-desk@example.org", "nato", "spike:nato:2026-11-20", "pending"),
    ]
    assert first == len(rows)

    # The next passes, that evening and the next morning, add nothing.
    for later in (evening + timedelta(minutes=15), evening + timedelta(hours=9)):
        with open_writer(config.storage.database, lock_timeout=5) as con:
            assert queue_spike_alerts(con, config, later) == 0
    assert spike_rows(config) == rows


def test_old_spikes_are_not_alerted_when_the_feature_is_first_enabled(tmp_path: Path) -> None:
    config = planted_config(tmp_path, last_day=SPIKE_DAY + timedelta(days=9))
    now = datetime.combine(SPIKE_DAY + timedelta(days=9), time(8, 0), tzinfo=UTC)
    with open_writer(config.storage.database, lock_timeout=5) as con:
        assert recent_spikes(con, config, now) == []
        assert queue_spike_alerts(con, config, now) == 0


@pytest.mark.parametrize("days", [1, 10])
def test_young_database_queues_nothing_and_says_why(tmp_path: Path, days: int) -> None:
    config = planted_config(tmp_path, last_day=SPIKE_DAY, days=days)
    now = datetime.combine(SPIKE_DAY, time(23, 0), tzinfo=UTC)
    with open_writer(config.storage.database, lock_timeout=5) as con:
        assert queue_spike_alerts(con, config, now) == 0
        scans = scan_watches(con, config, ["nato"], SPIKE_DAY, SPIKE_DAY)
    assert scans["nato"][0].counts == (25,)
    assert "spike detection needs 14 days" in scans["nato"][1].note


def test_describe_spikes_for_the_digest(tmp_path: Path) -> None:
    config = planted_config(tmp_path, last_day=SPIKE_DAY + timedelta(days=2))
    quiet = SPIKE_DAY + timedelta(days=1)
    with open_reader(config.storage.database, lock_timeout=5) as con:
        notes = describe_spikes(
            con, config, ["spike:nato:2026-11-20", f"spike:nato:{quiet}", "story-1"]
        )
    assert set(notes) == {"spike:nato:2026-11-20", f"spike:nato:{quiet}"}
    spike = notes["spike:nato:2026-11-20"]
    assert (spike.count, spike.day) == (25, SPIKE_DAY)
    assert spike.sentence("NATO").startswith("NATO: 25 stories on Fri 20 Nov, usually 3.")
    assert "spike threshold" in spike.sentence("NATO")
    calm = notes[f"spike:nato:{quiet}"]
    assert (
        calm.mean is None and calm.sentence("NATO") == f"NATO: {calm.count} stories on Sat 21 Nov"
    )
