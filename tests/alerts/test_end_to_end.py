"""Whole passes (feeds -> matches -> outbox -> SMTP) against loopback HTTP and SMTP servers."""

from __future__ import annotations

from pathlib import Path

from newsradar.config import Config, load_config
from tests.alerts.support import ProgrammableSink, smtp_server
from tests.conftest import write_config
from tests.loopback import LoopbackHTTPServer
from tests.sample_site import WATCHLIST, serve_seed
from tests.test_pipeline import feeds_toml, run_pass


def _config(tmp_path: Path, http_server: LoopbackHTTPServer, port: int) -> Config:
    settings = (
        '[storage]\ndatabase = "db.duckdb"\nlock_timeout = 5\n'
        '[alerts]\noutbox_dir = "outbox"\nrecipients = ["a@example.org", "b@example.org"]\n'
        # No back-off, so the very next pass retries.
        "retry_backoff = 0\n"
        '[fetch]\nallow_networks = ["127.0.0.1/32"]\nmin_host_delay = 0\n'
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\nsender = "radar@example.org"\n'
    )
    feeds = feeds_toml(("wire", http_server.url("/feed.xml")))
    return load_config(write_config(tmp_path, feeds=feeds, watchlist=WATCHLIST, settings=settings))


def test_one_digest_per_recipient_then_a_second_pass_sends_nothing(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    serve_seed(http_server)
    sink = ProgrammableSink()
    with smtp_server(sink) as server:
        config = _config(tmp_path, http_server, server.port)
        first = run_pass(config)
        second = run_pass(config)
    assert sorted(rcpt for _, rcpts, _ in sink.messages for rcpt in rcpts) == [
        "a@example.org",
        "b@example.org",
    ]
    assert first.alerts_sent > 0 and len(first.deliveries) == 2
    assert (second.alerts_sent, second.deliveries) == (0, ())
    msg = sink.messages[0][2]
    assert msg["Subject"].startswith("newsradar: 1 story for nato, north-korea")
    html = msg.get_body(("html",))
    assert html is not None and "<mark" in html.get_content()


def test_a_mail_dropped_after_data_arrives_on_a_later_pass_with_the_same_message_id(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    serve_seed(http_server)
    sink = ProgrammableSink(drop_after_data=1)
    with smtp_server(sink) as server:
        config = _config(tmp_path, http_server, server.port)
        first = run_pass(config)
        assert len(first.deliveries) == 1
        assert first.alerts_pending > 0 and len(sink.dropped) == 1
        # The operator sees why, in the summary of the pass.
        assert [p for p in first.alert_problems if "will retry" in p or "dropped" in p], (
            first.alert_problems
        )
        second = run_pass(config)
        third = run_pass(config)
    (lost,) = sink.dropped
    assert second.deliveries == (lost["Message-ID"],) and second.alerts_pending == 0
    assert (third.alerts_sent, third.deliveries) == (0, ())
    delivered = {m["Message-ID"]: rcpts for _, rcpts, m in sink.messages}
    assert len(delivered) == 2 and delivered[lost["Message-ID"]] == [lost["To"]]


def test_a_refused_recipient_is_reported_in_the_run_summary(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    serve_seed(http_server)
    sink = ProgrammableSink(rcpt_replies={"b@example.org": "550 5.1.1 no such user"})
    with smtp_server(sink) as server:
        config = _config(tmp_path, http_server, server.port)
        summary = run_pass(config)
    assert [rcpts for _, rcpts, _ in sink.messages] == [["a@example.org"]]
    assert summary.alerts_failed == summary.alerts_sent > 0
    (problem,) = summary.alert_problems
    assert problem.startswith("b@example.org: SMTP server 127.0.0.1:") and "550 5.1.1" in problem
