"""Spike alerts (newsradar.spikes) ride in the same digests, and the optional trends chart."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from newsradar.alerts import deliver_pending, queue_spikes
from newsradar.config import Config
from tests.alerts.support import NOW, article, make_config, seed


def _spiking_history(config: Config) -> None:
    """One NATO story a day for two weeks, then six today."""
    quiet = [
        article(f"d{day}", title=f"NATO note {day}", text="A NATO note.",
                published_at=NOW - timedelta(days=day),
                fetched_at=NOW - timedelta(days=day))
        for day in range(1, 15)
    ]  # fmt: skip
    busy = [article(f"t{i}", title=f"NATO story {i}", text="NATO again.") for i in range(6)]
    seed(config, quiet + busy, now=NOW - timedelta(days=15))


def _mail(config: Config) -> EmailMessage:
    (path,) = config.alerts.outbox_dir.glob("*.eml")
    msg = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_a_spike_is_announced_once_in_the_digest(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    _spiking_history(config)
    assert queue_spikes(config, NOW) == 1
    assert queue_spikes(config, NOW + timedelta(minutes=15)) == 0
    report = deliver_pending(config, now=NOW)
    assert report.sent == 21  # 20 stories + 1 spike
    msg = _mail(config)
    assert msg["Subject"] == "newsradar: 20 stories and 1 spike for NATO"
    text = msg.get_body(("plain",))
    assert text is not None
    assert "  ! NATO: 6 stories on Sun 29 Nov, usually 1.0 a day" in text.get_content()
    html = msg.get_body(("html",))
    assert html is not None and "<li>NATO: 6 stories on Sun 29 Nov" in html.get_content()


def test_daily_digest_embeds_the_chart_inline(tmp_path: Path) -> None:
    config = make_config(
        tmp_path,
        alerts='recipients = ["analyst@example.org"]\ndelivery = "daily at 00:00"\n',
    )
    _spiking_history(config)
    assert deliver_pending(config, now=NOW + timedelta(days=1)).sent == 20
    msg = _mail(config)
    html = msg.get_body(("html",))
    assert html is not None
    (image,) = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    cid = str(image["Content-ID"]).strip("<>")
    assert f'<img src="cid:{cid}" alt="Stories per day' in html.get_content()
    assert image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    text = msg.get_body(("plain",))
    assert text is not None and "Stories per day" in text.get_content()


def test_immediate_digest_stays_short_without_a_chart(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    _spiking_history(config)
    assert deliver_pending(config, now=NOW).sent == 20
    msg = _mail(config)
    assert [p for p in msg.walk() if p.get_content_type() == "image/png"] == []
