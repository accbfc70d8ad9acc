"""Building the mail with the ``email`` package's API: never a header by string concatenation.

Titles and snippets only ever reach the bodies; the subject holds counts and watch names, and
every header value goes through :class:`email.message.EmailMessage`, which refuses CR/LF in
header values (CVE-2024-6923 class of injection). The Message-ID is derived from the digest's
alert ids, so a resend after a lost acknowledgement carries the same one.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

import idna

from newsradar.alerts.digest import Digest, clean_text
from newsradar.alerts.render import render_digest

__all__ = ["build_message", "check_address", "message_id"]

_ADDR = re.compile(r"^[^@\s<>\"(),;:\\\[\]]+@[A-Za-z0-9.-]+$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def _ascii_domain(domain: str) -> str | None:
    """An internationalised domain in its ASCII (``xn--``) form, the one SMTP carries."""
    try:
        # An ASCII domain is left alone: the DNS, not IDNA 2008, decides whether it exists.
        # Lowercased: domains are case-insensitive, and one mailbox must have one spelling
        # (delivery_by_recipient keys, the alerts table).
        ascii_domain = (
            domain.lower() if domain.isascii() else idna.encode(domain, uts46=True).decode()
        )
    except (idna.IDNAError, UnicodeError):
        return None
    if not all(_LABEL.match(label) for label in ascii_domain.split(".")):
        return None
    return ascii_domain


def check_address(value: str) -> str:
    """A bare address like ``analyst@example.org``; ``ValueError`` otherwise.

    The domain comes back lowercased, an internationalised one in its ASCII form
    (``a@Bücher.example`` is ``a@xn--bcher-kva.example``), so every place that names the
    recipient agrees on it.
    """
    local, _, domain = value.rpartition("@")
    if local and not local.isascii():
        raise ValueError(
            f"{value!r}: the part before '@' is not ASCII, which needs SMTPUTF8 and newsradar"
            " sends plain SMTP; give an ASCII address of this mailbox"
        )
    ascii_domain = _ascii_domain(domain) if local else None
    if ascii_domain is None or not _ADDR.match(f"{local}@{ascii_domain}"):
        raise ValueError(f"{value!r} is not a mail address like 'analyst@example.org'")
    value = f"{local}@{ascii_domain}"
    try:
        Address(addr_spec=value)
    except Exception as exc:  # HeaderParseError or ValueError, depending on the defect
        raise ValueError(f"{value!r} is not a mail address like 'analyst@example.org'") from exc
    return value


def message_id(digest_id: str, sender: str) -> str:
    """``<digest-ID@sender-domain>``: stable for the same set of alerts."""
    domain = sender.rpartition("@")[2] or "newsradar.invalid"
    return f"<digest-{digest_id}@{domain}>"


def build_message(digest: Digest, *, sender: str, now: datetime) -> EmailMessage:
    """A multipart/alternative mail (text, then HTML) to the digest's one recipient."""
    text, html = render_digest(digest)
    msg = EmailMessage()
    msg["From"] = Address("newsradar", addr_spec=sender)
    msg["To"] = Address(addr_spec=digest.recipient)
    # clean_text drops CR/LF and controls; EmailMessage would refuse them anyway.
    msg["Subject"] = clean_text(digest.subject).encode("utf-8", "replace").decode("utf-8")
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id(digest.id, sender)
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Newsradar-Digest"] = digest.id
    msg.set_content(text, cte="quoted-printable")
    msg.add_alternative(html, subtype="html", cte="quoted-printable")
    if digest.chart_png:
        # Imported here: matplotlib is only loaded when a chart was drawn.
        from newsradar.charts import DigestChart, embed_chart

        embed_chart(msg, DigestChart(digest.chart_png, digest.chart_alt, digest.chart_cid))
    return msg
