"""Delivering due alerts: one digest per recipient, by SMTP or as .eml files."""

from __future__ import annotations

import smtplib
import ssl
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from newsradar.config import Config, SmtpSettings
from newsradar.identity import stable_id
from newsradar.store import open_writer
from newsradar.store.alerts import DueAlert, due_alerts, mark_alerts

__all__ = ["DeliveryReport", "deliver_pending", "render_digest"]


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    # Where each mail went: .eml paths, or "smtp:<recipient>".
    mails: tuple[str, ...] = field(default_factory=tuple)


def render_digest(
    config: Config, recipient: str, items: Sequence[DueAlert], now: datetime
) -> EmailMessage:
    watches = sorted({i.watch_name for i in items})
    stories = {i.article_id for i in items}
    msg = EmailMessage()
    msg["Subject"] = f"newsradar: {len(stories)} new stories for {', '.join(watches)}"
    msg["From"] = config.smtp.sender if config.smtp else "newsradar@localhost"
    msg["To"] = recipient
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<{stable_id('digest', *sorted(i.id for i in items))}@newsradar>"
    lines: list[str] = []
    for watch in watches:
        lines.append(f"== {watch} ==")
        for item in (i for i in items if i.watch_name == watch):
            lines.append(f"* {item.title} ({item.feed_id})\n  {item.url}")
            lines.extend(f"    {s}" for s in item.snippets[:3])
        lines.append("")
    msg.set_content("\n".join(lines))
    return msg


def _send_smtp(smtp: SmtpSettings, msg: EmailMessage) -> None:
    context = ssl.create_default_context()
    if smtp.tls == "implicit":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            smtp.host, smtp.port, timeout=smtp.timeout, context=context
        )
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
    with client:
        if smtp.tls == "starttls":
            client.starttls(context=context)
        if smtp.username and smtp.password:
            client.login(smtp.username, smtp.password)
        client.send_message(msg)


def deliver_pending(config: Config, *, now: datetime) -> DeliveryReport:
    with open_writer(config.storage.database, lock_timeout=config.storage.lock_timeout) as con:
        due = due_alerts(con)
    by_recipient: dict[str, list[DueAlert]] = defaultdict(list)
    for item in due:
        by_recipient[item.recipient].append(item)
    sent = failed = retrying = 0
    mails: list[str] = []
    for recipient, items in sorted(by_recipient.items()):
        msg = render_digest(config, recipient, items, now)
        ids = [i.id for i in items]
        status, error = "sent", None
        try:
            if config.smtp is None:
                config.alerts.outbox_dir.mkdir(parents=True, exist_ok=True)
                name = f"{now:%Y%m%dT%H%M%S}-{stable_id(recipient)}.eml"
                path = config.alerts.outbox_dir / name
                path.write_bytes(msg.as_bytes())
                mails.append(str(path))
            else:
                _send_smtp(config.smtp, msg)
                mails.append(f"smtp:{recipient}")
        except smtplib.SMTPResponseException as exc:
            status = "failed" if exc.smtp_code >= 500 else "retrying"
            error = f"{exc.smtp_code} {exc.smtp_error!r}"
        except (OSError, smtplib.SMTPException) as exc:
            status, error = "retrying", str(exc)
        with open_writer(config.storage.database, lock_timeout=config.storage.lock_timeout) as con:
            mark_alerts(con, ids, status, now=now, error=error, digest_id=msg["Message-ID"])
        sent += len(ids) if status == "sent" else 0
        failed += len(ids) if status == "failed" else 0
        retrying += len(ids) if status == "retrying" else 0
    return DeliveryReport(sent, failed, retrying, tuple(mails))
