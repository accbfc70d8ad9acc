"""Spikes and the 14-day chart in digests: queued once, carried by the next digest, intact."""

import re
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from newsradar.alerts import deliver_pending
from newsradar.alerts.deliver import prepare_digests
from newsradar.alerts.message import build_message
from newsradar.alerts.outbox import next_digest
from newsradar.config import Config, load_config
from newsradar.pipeline import deliver_alerts
from newsradar.spikes import queue_spike_alerts
from newsradar.store import open_reader, open_writer
from tests.alerts.support import (
    NOW,
    ProgrammableSink,
    article,
    make_config,
    seed,
    smtp_server,
)
from tests.trends_data import build_trends_db, trends_config_text

SPIKE_DAY = date(2026, 11, 20)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def trends_config(
    tmp_path: Path, *, last_day: date, alerts: str, smtp: str = "", spike_day: date = SPIKE_DAY
) -> Config:
    database = tmp_path / "trends.duckdb"
    build_trends_db(database, last_day=last_day, spike_day=spike_day)
    directory = tmp_path / "config"
    directory.mkdir()
    files = trends_config_text(database)
    files["newsradar.toml"] = (
        f'[storage]\ndatabase = "{database}"\nlock_timeout = 5\n\n'
        f'[alerts]\noutbox_dir = "outbox"\nrecipients = ["analyst@example.org"]\n{alerts}\n'
        + (f"[smtp]\n{smtp}\n" if smtp else "")
    )
    for name, text in files.items():
        (directory / name).write_text(text)
    return load_config(directory)


def queue(config: Config, now: datetime) -> int:
    with open_writer(config.storage.database, lock_timeout=5) as con:
        return queue_spike_alerts(
            con, config, now, due=lambda rcpt, w: next_digest(config, rcpt, w, now)
        )


def queued_rows(config: Config) -> list[tuple[str, str]]:
    with open_reader(config.storage.database, lock_timeout=5) as con:
        return con.execute("SELECT recipient, watch_id FROM alerts ORDER BY ALL").fetchall()


def parts(msg: EmailMessage) -> dict[str, list[EmailMessage]]:
    found: dict[str, list[EmailMessage]] = {}
    for part in msg.walk():
        found.setdefault(part.get_content_type(), []).append(part)  # type: ignore[arg-type]
    return found


def test_spike_rides_in_the_next_daily_digest_with_its_chart(tmp_path: Path) -> None:
    sink = ProgrammableSink()
    with smtp_server(sink) as server:
        smtp = f'host = "127.0.0.1"\nport = {server.port}\ntls = "none"\nsender = "r@example.net"'
        config = trends_config(
            tmp_path, last_day=SPIKE_DAY, alerts='delivery = "daily at 09:00"', smtp=smtp
        )
        evening = datetime.combine(SPIKE_DAY, time(20, 0), tzinfo=UTC)
        morning = datetime.combine(SPIKE_DAY + timedelta(days=1), time(9, 0), tzinfo=UTC)
        assert queue(config, evening) >= 2  # nato: two recipients (dprk may spike too)
        assert deliver_pending(config, now=evening).sent == 0  # waits for the 09:00 digest
        assert queue(config, morning) == 0  # judged again as "yesterday": already queued
        report = deliver_pending(config, now=morning)
        assert queue(config, morning + timedelta(hours=1)) == 0
        assert deliver_pending(config, now=morning + timedelta(hours=1)).sent == 0

    by_rcpt = {rcpts[0]: msg for _, rcpts, msg in sink.messages}
    assert set(by_rcpt) == {"analyst@example.org", "nato-desk@example.org"}
    assert report.failed == 0 and report.sent == len(queued_rows(config))
    desk = by_rcpt["nato-desk@example.org"]
    assert desk["Subject"] == "newsradar: spike in NATO"
    found = parts(desk)
    text = found["text/plain"][0].get_content()
    assert "SPIKE: NATO: 25 stories on Fri 20 Nov, usually 3." in text
    # The chart covers the 14 days up to the digest's own day (the 21st).
    assert re.search(
        r"\[Chart\] Stories per day, 08 Nov to 21 Nov: NATO \d+ \(peak 25 on 20 Nov\)", text
    )
    html = found["text/html"][0].get_content()
    (image,) = found["image/png"]
    cid = image["Content-ID"].strip("<>")
    assert f'src="cid:{cid}"' in html and 'alt="Stories per day, 08 Nov to 21 Nov: NATO' in html
    assert "http://" not in html.split("<img", 1)[1].split(">", 1)[0]
    assert image.get_content_disposition() == "inline"
    png = image.get_content()
    assert isinstance(png, bytes) and png.startswith(PNG_MAGIC) and len(png) > 2_000
    assert len(found["multipart/related"]) == 1

    with open_reader(config.storage.database, lock_timeout=5) as con:
        rows = con.execute(
            "SELECT recipient, story_id, status, due_at FROM alerts WHERE kind = 'spike'"
            " AND watch_id = 'nato' ORDER BY recipient"
        ).fetchall()
    assert rows == [
        ("analyst@example.org", "spike:nato:2026-11-20", "sent", morning),
        ("nato-desk@example.org", "spike:nato:2026-11-20", "sent", morning),
    ]


def test_the_pass_queues_todays_spike_and_an_immediate_digest_sends_it(tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    config = trends_config(
        tmp_path, last_day=today, spike_day=today, alerts='delivery = "immediate"'
    )
    report = deliver_alerts(config)  # the pipeline's step: queue spikes, then deliver
    rows = queued_rows(config)
    assert ("analyst@example.org", "nato") in rows and ("nato-desk@example.org", "nato") in rows
    assert report.failed == 0 and report.sent == len(rows)
    mails = sorted(config.alerts.outbox_dir.glob("*.eml"))
    assert len(mails) == 2
    desk = next(m for m in mails if b"To: nato-desk@example.org" in m.read_bytes())
    body = desk.read_bytes()
    assert b"Subject: newsradar: spike in NATO" in body and b"Content-Type: image/png" in body
    again = deliver_alerts(config)
    assert again.sent == 0 and queued_rows(config) == rows


@pytest.mark.parametrize(
    ("delivery", "charted"),
    [("daily at 09:00", True), ("weekly on monday at 07:00", True), ("immediate", False)],
)
def test_daily_and_weekly_digests_carry_the_chart(
    tmp_path: Path, delivery: str, charted: bool
) -> None:
    config = make_config(
        tmp_path, alerts=f'recipients = ["analyst@example.org"]\ndelivery = "{delivery}"\n'
    )
    seed(config, [article("a1")])
    with open_writer(config.storage.database, lock_timeout=5) as con:
        # Two days on, every mode's slot has come; the chart ends on that day.
        (digest,) = prepare_digests(con, config, NOW + timedelta(days=2), claim=False)
    assert (digest.chart is not None) is charted
    assert digest.spikes == ()
    msg = build_message(digest, sender="r@example.net", now=NOW)
    assert ("image/png" in parts(msg)) is charted
    if digest.chart is not None:
        assert digest.chart.alt.startswith("Stories per day, 18 Nov to 01 Dec: NATO 1 ")
