"""A planted spike over 30 days: queued once, carried by the next daily digest with its chart,
and the chart arrives byte for byte at a loopback SMTP server."""

import re
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path

from newsradar.alerts import deliver_pending, queue_spikes
from newsradar.charts import digest_chart
from newsradar.config import Config, load_config
from newsradar.store import open_reader
from tests.alerts.support import ProgrammableSink, smtp_server
from tests.trends_data import build_trends_db, trends_config_text

SPIKE_DAY = date(2026, 11, 20)
EVENING = datetime.combine(SPIKE_DAY, time(20, 0), tzinfo=UTC)
MORNING = datetime.combine(SPIKE_DAY + timedelta(days=1), time(9, 0), tzinfo=UTC)


def daily_config(tmp_path: Path, port: int) -> Config:
    database = tmp_path / "trends.duckdb"
    build_trends_db(database, last_day=SPIKE_DAY, spike_day=SPIKE_DAY)
    directory = tmp_path / "config"
    directory.mkdir()
    files = trends_config_text(database)
    files["newsradar.toml"] = (
        f'[storage]\ndatabase = "{database}"\nlock_timeout = 5\n\n'
        '[alerts]\nrecipients = ["analyst@example.org"]\ndelivery = "daily at 09:00"\n'
        "chart_days = 14\n\n"
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\nsender = "r@example.net"\n'
    )
    for name, text in files.items():
        (directory / name).write_text(text)
    return load_config(directory)


def by_type(msg: EmailMessage) -> dict[str, list[EmailMessage]]:
    found: dict[str, list[EmailMessage]] = {}
    for part in msg.walk():
        found.setdefault(part.get_content_type(), []).append(part)  # type: ignore[arg-type]
    return found


def test_spike_rides_in_the_next_daily_digest_and_its_chart_arrives_intact(
    tmp_path: Path,
) -> None:
    sink = ProgrammableSink()
    with smtp_server(sink) as server:
        config = daily_config(tmp_path, server.port)
        assert queue_spikes(config, EVENING) >= 2  # nato's two recipients (dprk may spike too)
        assert deliver_pending(config, now=EVENING).sent == 0  # waits for the 09:00 digest
        assert queue_spikes(config, MORNING) == 0  # judged again as "yesterday": queued already
        report = deliver_pending(config, now=MORNING)
        assert queue_spikes(config, MORNING + timedelta(hours=1)) == 0
        assert deliver_pending(config, now=MORNING + timedelta(hours=1)).sent == 0

    assert report.failed == 0
    desk = next(msg for _, rcpts, msg in sink.messages if rcpts == ["nato-desk@example.org"])
    assert len(sink.messages) == 2  # one digest per recipient, once
    assert desk["Subject"] == "newsradar: 1 spike for NATO"
    parts = by_type(desk)
    text = parts["text/plain"][0].get_content()
    assert "NATO: 25 stories on Fri 20 Nov, usually 3." in text
    assert re.search(r"Stories per day, 08 Nov to 21 Nov: NATO \d+ \(peak 25 on\s+20 Nov\)", text)
    (image,) = parts["image/png"]
    cid = str(image["Content-ID"]).strip("<>")
    html = parts["text/html"][0].get_content()
    assert f'src="cid:{cid}"' in html and 'alt="Stories per day, 08 Nov to 21 Nov: NATO' in html
    assert image.get_content_disposition() == "inline"
    with open_reader(config.storage.database, lock_timeout=5) as con:
        expected = digest_chart(
            con, ["nato"], days=14, today=MORNING.date(), tz="UTC", labels={"nato": "NATO"}
        )
        rows = con.execute(
            "SELECT recipient, story_id, status, due_at FROM alerts"
            " WHERE kind = 'spike' AND watch_id = 'nato' ORDER BY recipient"
        ).fetchall()
    assert image.get_content() == expected.png  # byte for byte, as drawn
    assert rows == [
        ("analyst@example.org", "spike:nato:2026-11-20", "sent", MORNING),
        ("nato-desk@example.org", "spike:nato:2026-11-20", "sent", MORNING),
    ]
