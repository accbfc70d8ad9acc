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

from newsradar.alerts.digest import Digest, clean_text
from newsradar.alerts.render import render_digest

__all__ = ["build_message", "check_address", "message_id"]

_ADDR = re.compile(r"^[^@\s<>\"(),;:\\\[\]]+@[A-Za-z0-9.-]+$")


def check_address(value: str) -> str:
    """A bare address like ``analyst@example.org``; ``ValueError`` otherwise."""
    if not _ADDR.match(value):
        raise ValueError(f"{value!r} is not a mail address like 'analyst@example.org'")
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
