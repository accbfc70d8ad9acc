"""Mail headers come from the email package's API; hostile titles cannot add headers."""

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from newsradar.alerts.digest import digest_id
from newsradar.alerts.message import build_message, check_address, message_id
from tests.alerts.support import NOW, sample_digest


def _parsed() -> EmailMessage:
    raw = build_message(sample_digest(), sender="radar@example.net", now=NOW).as_bytes()
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_hostile_title_adds_no_header_and_no_recipient() -> None:
    """RELIABILITY F37: a title holding CRLF + Bcc."""
    msg = _parsed()
    assert msg.get_all("Bcc") is None
    assert msg.get_all("To") == ["analyst@example.org"]
    assert msg["Subject"] == "newsradar: 2 stories for NATO, North Korea"
    assert sorted(msg.keys()) == sorted(
        ["From", "To", "Subject", "Date", "Message-ID", "Auto-Submitted",
         "X-Newsradar-Digest", "MIME-Version", "Content-Type"]
    )  # fmt: skip


def test_multipart_alternative_text_then_html() -> None:
    msg = _parsed()
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    html = msg.get_body(("html",))
    assert html is not None and "&lt;script&gt;" in html.get_content()


def test_message_id_is_stable_for_the_same_alerts() -> None:
    digest = sample_digest()
    first = build_message(digest, sender="radar@example.net", now=NOW)
    again = build_message(sample_digest(), sender="radar@example.net", now=NOW)
    assert first["Message-ID"] == again["Message-ID"] == f"<digest-{digest.id}@example.net>"
    assert digest.id == digest_id(["x3", "x1", "x2"])
    assert message_id("abc", "newsradar@localhost") == "<digest-abc@localhost>"


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("analyst@example.org", True),
        ("first.last+news@sub.example.org", True),
        ("analyst@example.org\r\nBcc: x@example.org", False),
        ("Analyst <analyst@example.org>", False),
        ("a@b@example.org", False),
        ("no-at-sign", False),
        ("a,b@example.org", False),
        ("", False),
    ],
)
def test_recipient_addresses_are_bare_and_single(value: str, ok: bool) -> None:
    if ok:
        assert check_address(value) == value
    else:
        with pytest.raises(ValueError, match="not a mail address"):
            check_address(value)


@pytest.mark.parametrize(
    ("value", "ascii_form"),
    [
        ("analyst@bücher.example", "analyst@xn--bcher-kva.example"),
        ("Desk@STRASSE.example", "Desk@strasse.example"),
        # An ASCII domain is taken as it is, even an xn-- form IDNA 2008 would not produce.
        ("love@xn--i-7iq.ws", "love@xn--i-7iq.ws"),
        ("desk@straße.example", "desk@xn--strae-oqa.example"),
        ("redaktion@пример.рф", "redaktion@xn--e1afmkfd.xn--p1ai"),
    ],
)
def test_idn_domains_are_accepted_in_their_ascii_form(value: str, ascii_form: str) -> None:
    assert check_address(value) == ascii_form


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("jürgen@example.org", "SMTPUTF8"),
        ("analyst@exa_mple.org", "not a mail address"),
        ("analyst@-bad.example", "not a mail address"),
        ("analyst@xn--.example", "not a mail address"),
    ],
)
def test_addresses_that_cannot_be_sent_say_why(value: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        check_address(value)
