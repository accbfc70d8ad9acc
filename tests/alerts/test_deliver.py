"""Delivery against real loopback SMTP servers (aiosmtpd) and a real DuckDB file."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
import trustme

from newsradar.alerts import deliver as deliver_module
from newsradar.alerts import deliver_pending
from newsradar.alerts.deliver import prepare_digests
from newsradar.alerts.message import build_message
from newsradar.alerts.transport import EmlTransport, SmtpTransport
from newsradar.config import Config
from newsradar.errors import ConfigError
from newsradar.store import open_writer
from tests.alerts.support import (
    NOW,
    WATCHLIST,
    ProgrammableSink,
    alert_rows,
    article,
    make_config,
    seed,
    server_tls_context,
    smtp_server,
)

TWO = 'recipients = ["analyst@example.org", "desk@example.org"]\n'
LATER = NOW + timedelta(minutes=10)


def smtp_config(tmp_path: Path, port: int, tls: str = "none", extra: str = "") -> Config:
    smtp = f'host = "127.0.0.1"\nport = {port}\ntls = "{tls}"\nsender = "radar@example.net"\n'
    return make_config(tmp_path, smtp=smtp + extra, alerts=TWO)


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def trusting(ca: trustme.CA) -> ssl.SSLContext:
    """What a client would use if the test CA were in the system store."""
    ctx = ssl.create_default_context()
    ca.configure_trust(ctx)
    return ctx


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("NEWSRADAR_SMTP_PASSWORD", "s3cret")
    yield "s3cret"


def test_eml_files_one_per_recipient_sorted_by_time_and_a_second_run_writes_none(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path, alerts=TWO)
    assert seed(config, [article("a1"), article("a2", title="Another NATO story")]) == 8
    report = deliver_pending(config, now=NOW)
    assert (report.sent, report.failed, report.retrying) == (8, 0, 0)
    files = sorted(config.alerts.outbox_dir.glob("*.eml"))
    assert [str(f) for f in files] == sorted(report.mails) and len(files) == 2
    recipients = set()
    for path in files:
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        recipients.add(msg["To"])
        assert msg["Subject"] == "newsradar: 2 stories for NATO, North Korea"
        assert path.name.endswith(f"-{msg['X-Newsradar-Digest']}.eml")
    assert recipients == {"analyst@example.org", "desk@example.org"}
    # RELIABILITY F40: nothing new, no mail at all.
    assert deliver_pending(config, now=LATER) == type(report)()
    assert len(list(config.alerts.outbox_dir.glob("*.eml"))) == 2
    assert {r[3] for r in alert_rows(config)} == {"sent"}


def test_smtp_one_digest_per_recipient_then_nothing(tmp_path: Path) -> None:
    sink = ProgrammableSink()
    with smtp_server(sink) as server:
        config = smtp_config(tmp_path, server.port)
        seed(config, [article("a1")])
        report = deliver_pending(config, now=NOW)
        assert deliver_pending(config, now=LATER).sent == 0
    assert report.sent == 4 and len(report.mails) == 2
    assert sorted(rcpts[0] for _, rcpts, _ in sink.messages) == [
        "analyst@example.org",
        "desk@example.org",
    ]
    assert all(frm == "radar@example.net" for frm, _, _ in sink.messages)
    assert sorted(m["Message-ID"] for _, _, m in sink.messages) == sorted(report.mails)


def test_drop_after_data_is_retried_later_with_the_same_message_id(tmp_path: Path) -> None:
    """RELIABILITY F36: no reply after DATA, then recovery: same Message-ID, nothing lost."""
    sink = ProgrammableSink(drop_after_data=1)
    with smtp_server(sink) as server:
        config = smtp_config(tmp_path, server.port)
        seed(config, [article("a1")])
        first = deliver_pending(config, now=NOW)
        assert (first.sent, first.retrying) == (2, 2)  # one of the two mails was dropped
        dropped = [r for r in alert_rows(config) if r[3] == "retrying"]
        assert {r[4] for r in dropped} == {1} and "dropped the connection" in dropped[0][6]
        # Backed off: a pass one minute later does not knock again.
        assert deliver_pending(config, now=NOW + timedelta(minutes=1)).sent == 0
        second = deliver_pending(config, now=LATER)
    assert second.sent == 2 and sink.received == 3
    digest = dropped[0][5]
    assert second.mails == (f"<digest-{digest}@example.net>",)
    assert {r[3] for r in alert_rows(config)} == {"sent"}


def test_4xx_is_retried_and_5xx_fails_one_recipient_without_blocking_others(
    tmp_path: Path,
) -> None:
    sink = ProgrammableSink(
        rcpt_replies={
            "desk@example.org": "550 5.1.1 <desk@example.org>: no such user",
            "analyst@example.org": "451 4.3.0 mailbox busy, try later",
        }
    )
    with smtp_server(sink) as server:
        config = smtp_config(tmp_path, server.port)
        seed(config, [article("a1")])
        report = deliver_pending(config, now=NOW)
        assert (report.sent, report.retrying, report.failed) == (0, 2, 2)
        assert report.failures and "550 5.1.1" in report.failures[0]
        assert report.failures[0].startswith("desk@example.org: ")
        del sink.rcpt_replies["analyst@example.org"]
        later = deliver_pending(config, now=LATER)
    assert (later.sent, later.failed) == (2, 0)
    statuses = {(r[0], r[3]) for r in alert_rows(config)}
    assert statuses == {("analyst@example.org", "sent"), ("desk@example.org", "failed")}
    with open_writer(config.storage.database) as con:
        events = con.execute("SELECT stage, kind, message FROM events").fetchall()
    assert [(s, k) for s, k, _ in events] == [("deliver", "delivery_failed")]


def test_unreachable_server_leaves_everything_retrying(tmp_path: Path) -> None:
    sink = ProgrammableSink()
    with smtp_server(sink) as server:
        port = server.port
    config = smtp_config(tmp_path, port)  # the server is gone: connection refused
    seed(config, [article("a1")])
    report = deliver_pending(config, now=NOW)
    assert (report.sent, report.retrying, report.mails) == (0, 4, ())
    assert all(r[3] == "retrying" and "cannot reach" in r[6] for r in alert_rows(config))


def test_starttls_with_an_untrusted_certificate_fails_closed(
    tmp_path: Path, ca: trustme.CA, password: str
) -> None:
    """RELIABILITY F39: invalid certificate -> nothing sent, no password, alerts pending."""
    sink = ProgrammableSink()
    tls = server_tls_context(ca.issue_cert("127.0.0.1"))
    with smtp_server(sink, tls_context=tls, authenticator=sink.authenticate) as server:
        config = smtp_config(tmp_path, server.port, "starttls", 'username = "radar"\n')
        seed(config, [article("a1")])
        report = deliver_pending(config, now=NOW)
    assert report.sent == 0 and report.pending == 4
    assert len(report.problems) == 1 and "TLS with SMTP server" in report.problems[0]
    assert "CERTIFICATE_VERIFY_FAILED" in report.problems[0]
    assert sink.messages == [] and sink.logins == 0
    assert {(r[3], r[4]) for r in alert_rows(config)} == {("pending", 0)}


def test_server_without_starttls_gets_no_password(tmp_path: Path, password: str) -> None:
    sink = ProgrammableSink()
    with smtp_server(sink, authenticator=sink.authenticate, auth_require_tls=False) as server:
        config = smtp_config(tmp_path, server.port, "starttls", 'username = "radar"\n')
        seed(config, [article("a1")])
        report = deliver_pending(config, now=NOW)
    assert report.sent == 0 and "does not offer STARTTLS" in report.problems[0]
    assert sink.logins == 0 and sink.messages == []


@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated:DeprecationWarning")
def test_auth_535_fails_closed_then_the_right_password_delivers(
    tmp_path: Path, ca: trustme.CA, trusting: ssl.SSLContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    sink = ProgrammableSink()
    tls = server_tls_context(ca.issue_cert("127.0.0.1"))
    with smtp_server(
        sink,
        tls_context=tls,
        require_starttls=True,
        authenticator=sink.authenticate,
        auth_required=True,
        auth_exclude_mechanism=["LOGIN"],
    ) as server:
        config = smtp_config(tmp_path, server.port, "starttls", 'username = "radar"\n')
        seed(config, [article("a1")])
        monkeypatch.setenv("NEWSRADAR_SMTP_PASSWORD", "wrong")
        assert config.smtp is not None
        bad = deliver_pending(
            config, now=NOW, transport=SmtpTransport(config.smtp, ssl_context=trusting)
        )
        assert bad.sent == 0 and "535" in bad.problems[0] and "wrong" not in bad.problems[0]
        assert {r[3] for r in alert_rows(config)} == {"pending"}
        monkeypatch.setenv("NEWSRADAR_SMTP_PASSWORD", "s3cret")
        good = deliver_pending(
            config, now=NOW, transport=SmtpTransport(config.smtp, ssl_context=trusting)
        )
    assert good.sent == 4 and len(sink.messages) == 2


def test_implicit_tls_verified_against_the_given_trust(
    tmp_path: Path, ca: trustme.CA, trusting: ssl.SSLContext
) -> None:
    sink = ProgrammableSink()
    tls = server_tls_context(ca.issue_cert("127.0.0.1"))
    with smtp_server(sink, ssl_context=tls) as server:
        config = smtp_config(tmp_path, server.port, "implicit")
        seed(config, [article("a1")])
        assert config.smtp is not None
        untrusted = deliver_pending(config, now=NOW)
        assert untrusted.sent == 0 and "CERTIFICATE_VERIFY_FAILED" in untrusted.problems[0]
        report = deliver_pending(
            config, now=NOW, transport=SmtpTransport(config.smtp, ssl_context=trusting)
        )
    assert report.sent == 4 and len(sink.messages) == 2


def test_auth_over_plain_text_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="clear text"):
        smtp_config(tmp_path, 2525, "none", 'username = "radar"\n')


def test_daily_digest_waits_for_its_slot(tmp_path: Path) -> None:
    config = make_config(
        tmp_path,
        alerts='recipients = ["analyst@example.org"]\ndelivery = "daily at 09:00"\n',
        watchlist=WATCHLIST,
    )
    seed(config, [article("a1")])
    assert deliver_pending(config, now=NOW + timedelta(hours=1, minutes=59)).sent == 0
    assert deliver_pending(config, now=NOW + timedelta(hours=2)).sent == 2


def test_crash_after_claim_resends_the_same_digest_once(tmp_path: Path) -> None:
    """A pass killed between writing the mail and marking the rows: same mail, no second."""
    config = make_config(tmp_path)
    seed(config, [article("a1")])
    with open_writer(config.storage.database) as con:
        (digest,) = prepare_digests(con, config, NOW)  # claims the rows, then "crashes"
    written = EmlTransport(config.alerts.outbox_dir).send(
        build_message(digest, sender="newsradar@localhost", now=NOW), digest.recipient, digest.id
    )
    report = deliver_pending(config, now=LATER)
    assert report.mails == (written,) and report.sent == 2
    assert len(list(config.alerts.outbox_dir.glob("*.eml"))) == 1


def test_a_big_backlog_drains_over_several_digests(tmp_path: Path) -> None:
    config = make_config(tmp_path, alerts='recipients = ["analyst@example.org"]\nmax_stories = 2\n')
    seed(config, [article(f"a{i}") for i in range(5)])
    sizes = [deliver_pending(config, now=NOW + timedelta(minutes=i)).sent for i in range(4)]
    assert sizes == [4, 4, 2, 0]


def test_rows_for_a_recipient_removed_from_the_configuration_are_not_sent(
    tmp_path: Path,
) -> None:
    seed(make_config(tmp_path, alerts=TWO), [article("a1")])
    config = make_config(tmp_path, alerts='recipients = ["analyst@example.org"]\n')
    report = deliver_pending(config, now=NOW)
    assert (report.sent, report.failed) == (2, 2)
    assert report.failures[0].startswith("desk@example.org: recipient no longer in the config")
    assert len(list(config.alerts.outbox_dir.glob("*.eml"))) == 1


def test_rows_queued_under_an_older_spelling_of_the_domain_are_still_sent(
    tmp_path: Path,
) -> None:
    # Rows from before domains were lowercased name "analyst@Example.ORG": same mailbox.
    config = make_config(tmp_path)
    seed(config, [article("a1")])
    with open_writer(config.storage.database) as con:
        con.execute("UPDATE alerts SET recipient = 'analyst@Example.ORG'")
    report = deliver_pending(config, now=NOW)
    assert (report.sent, report.failed) == (2, 0)


def test_a_server_that_never_answers_times_out_once_for_the_whole_pass(tmp_path: Path) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel accepts; nobody ever says 220
        port = silent.getsockname()[1]
        config = smtp_config(tmp_path, port, extra="timeout = 0.5\n")
        seed(config, [article("a1")])
        report = deliver_pending(config, now=NOW)
    assert (report.sent, report.retrying) == (0, 4)
    assert all("timed out" in r[6] for r in alert_rows(config))


def test_a_digest_that_cannot_be_rendered_does_not_stop_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = deliver_module.build_message

    def broken_for_desk(digest: Any, **kwargs: Any) -> Any:
        if digest.recipient == "desk@example.org":
            raise RuntimeError("template bug")
        return real(digest, **kwargs)

    monkeypatch.setattr(deliver_module, "build_message", broken_for_desk)
    config = make_config(tmp_path, alerts=TWO)
    seed(config, [article("a1")])
    report = deliver_pending(config, now=NOW)
    assert (report.sent, report.retrying) == (2, 2)
    assert "could not be rendered: RuntimeError('template bug')" in report.problems[0]
    monkeypatch.setattr(deliver_module, "build_message", real)
    assert deliver_pending(config, now=LATER).sent == 2


def test_an_idn_recipient_gets_the_mail_at_its_ascii_address(tmp_path: Path) -> None:
    sink = ProgrammableSink()
    with smtp_server(sink) as server:
        smtp = f'host = "127.0.0.1"\nport = {server.port}\ntls = "none"\n'
        smtp += 'sender = "radar@bücher.example"\n'
        config = make_config(tmp_path, smtp=smtp, alerts='recipients = ["analyst@пример.рф"]\n')
        seed(config, [article("a1")])
        report = deliver_pending(config, now=NOW)
    assert (report.sent, report.retrying, report.failed) == (2, 0, 0)
    [(sender, rcpts, msg)] = sink.messages
    assert (sender, rcpts) == ("radar@xn--bcher-kva.example", ["analyst@xn--e1afmkfd.xn--p1ai"])
    assert msg["To"] == "analyst@xn--e1afmkfd.xn--p1ai"
    assert msg["Message-ID"].endswith("@xn--bcher-kva.example>")


class ClosingOnceSink(ProgrammableSink):
    """Answers the first MAIL FROM with 421 (the server closes the connection)."""

    closing: int = 1

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if self.closing:
            self.closing -= 1
            return "421 4.3.2 too busy, closing connection"
        envelope.mail_from = address
        return "250 OK"


def test_a_421_delays_one_mail_and_the_next_recipient_gets_a_new_connection(
    tmp_path: Path,
) -> None:
    sink = ClosingOnceSink()
    with smtp_server(sink) as server:
        config = smtp_config(tmp_path, server.port)
        seed(config, [article("a1")])
        report = deliver_pending(config, now=NOW)
    assert (report.sent, report.retrying) == (2, 2)
    assert [rcpts for _, rcpts, _ in sink.messages] == [["desk@example.org"]]
    assert report.retries == (
        f"SMTP server 127.0.0.1:{server.port} deferred the sender: "
        "421 4.3.2 too busy, closing connection; will retry",
    )


class SilentAfterDataSink(ProgrammableSink):
    """Takes the first mail's DATA, then never replies (the connection stays open)."""

    silent: int = 1

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.silent:
            self.silent -= 1
            self.received += 1
            self.dropped.append(message_from_bytes(envelope.content, policy=policy.default))
            await asyncio.sleep(30)  # no reply: the client's timeout must end the wait
        return await super().handle_DATA(server, session, envelope)


def test_a_server_silent_after_data_times_out_and_the_mail_is_resent_with_its_id(
    tmp_path: Path,
) -> None:
    """RELIABILITY F36: no reply after DATA. That mail is retried later with the same
    Message-ID and goes out once more; the next recipient gets a fresh connection."""
    sink = SilentAfterDataSink()
    with smtp_server(sink) as server:
        config = smtp_config(tmp_path, server.port, extra="timeout = 0.5\n")
        seed(config, [article("a1")])
        first = deliver_pending(config, now=NOW)
        assert (first.sent, first.retrying) == (2, 2)
        waiting = [r for r in alert_rows(config) if r[3] == "retrying"]
        assert all("timed out" in r[6] for r in waiting)
        second = deliver_pending(config, now=LATER)
        assert deliver_pending(config, now=LATER + timedelta(hours=2)).sent == 0
    assert (second.sent, second.retrying) == (2, 0)
    [silent] = sink.dropped
    resent = [m for _, _, m in sink.messages if m["To"] == silent["To"]]
    assert [m["Message-ID"] for m in resent] == [silent["Message-ID"]]
    assert sink.received == 3 and {r[3] for r in alert_rows(config)} == {"sent"}


@dataclass
class DataReplySink(ProgrammableSink):
    """Answers the end of DATA with the queued replies first, then 250."""

    data_replies: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_replies:
            self.received += 1
            return self.data_replies.pop(0)
        return await super().handle_DATA(server, session, envelope)


@pytest.mark.parametrize(
    ("reply", "status"),
    [("452 4.3.1 insufficient system storage", "retrying"), ("554 5.7.1 rejected", "failed")],
)
def test_a_refused_message_is_retried_on_4xx_and_failed_on_5xx(
    tmp_path: Path, reply: str, status: str
) -> None:
    """RELIABILITY F36: the reply to the message itself (after DATA), not to a recipient."""
    sink = DataReplySink(data_replies=[reply])
    with smtp_server(sink) as server:
        config = smtp_config(tmp_path, server.port)
        seed(config, [article("a1")])
        first = deliver_pending(config, now=NOW)
        later = deliver_pending(config, now=LATER)
    refused = [r for r in alert_rows(config) if r[3] != "sent"]
    assert (first.sent, len(sink.messages)) == (2, 2 if status == "retrying" else 1)
    if status == "retrying":
        assert later.sent == 2 and not refused
    else:
        assert later.sent == 0 and {r[3] for r in refused} == {"failed"}
        assert reply in refused[0][6] and reply in first.failures[0]
