"""Apprise channels: the same outbox and no-duplicate rule as mail, over a loopback webhook."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from newsradar.alerts import deliver_pending
from newsradar.errors import ConfigError
from tests.alerts.support import NOW, WebhookSink, alert_rows, article, make_config, seed

CHANNEL = (
    'recipients = ["analyst@example.org", "channel:desk"]\n'
    'channels = { desk = "NEWSRADAR_CHANNEL_DESK" }\n'
)


def test_channel_gets_the_digest_once_next_to_the_mail(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path, alerts=CHANNEL)
    seed(config, [article("a1", title="<b>NATO</b> summit")])
    with WebhookSink() as hook:
        monkeypatch.setenv("NEWSRADAR_CHANNEL_DESK", hook.url)
        first = deliver_pending(config, now=NOW)
        second = deliver_pending(config, now=NOW + timedelta(hours=1))
    assert (first.sent, second.sent) == (4, 0)
    assert len(hook.posts) == 1 and len(list(config.alerts.outbox_dir.glob("*.eml"))) == 1
    (post,) = hook.posts
    assert post["title"] == "newsradar: 1 story for NATO, North Korea"
    assert "* <b>*NATO*</b> summit" in post["message"]
    assert any(m.startswith("channel:desk ") for m in first.mails)


def test_channel_refusal_is_retried_and_mail_is_not_held_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = make_config(tmp_path, alerts=CHANNEL + "retry_backoff = 60\n")
    seed(config, [article("a1")])
    with WebhookSink(statuses=(500, 200)) as hook:
        monkeypatch.setenv("NEWSRADAR_CHANNEL_DESK", hook.url)
        first = deliver_pending(config, now=NOW)
        later = deliver_pending(config, now=NOW + timedelta(minutes=2))
    assert (first.sent, first.retrying) == (2, 2)
    assert later.sent == 2 and len(hook.posts) == 2
    assert {r[3] for r in alert_rows(config)} == {"sent"}


def test_channel_without_its_url_waits_and_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSRADAR_CHANNEL_DESK", raising=False)
    config = make_config(tmp_path, alerts=CHANNEL)
    seed(config, [article("a1")])
    report = deliver_pending(config, now=NOW)
    assert (report.sent, report.pending) == (2, 2)
    assert report.problems == (
        "channel 'desk': NEWSRADAR_CHANNEL_DESK is not set; export it with the Apprise URL",
    )
    waiting = [r for r in alert_rows(config) if r[0] == "channel:desk"]
    assert {(r[3], r[4]) for r in waiting} == {("pending", 0)}


@pytest.mark.parametrize(
    ("alerts", "needle"),
    [
        ('channels = { desk = "slack://token/abc" }\n', "never the URL itself"),
        ('channels = { "Desk Team" = "X" }\n', "lowercase"),
        ('recipients = ["channel:Desk Team"]\n', "channel names"),
    ],
)
def test_channel_settings_keep_secrets_out_of_toml(
    tmp_path: Path, alerts: str, needle: str
) -> None:
    with pytest.raises(ConfigError, match=needle):
        make_config(tmp_path, alerts=alerts)
