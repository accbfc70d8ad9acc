"""Watching the watcher: what a pass did, in words for the Prefect UI, and mail to the operator.

    markdown = summary_markdown(summary)                 # the per-pass Prefect artifact
    notices = operator_notices(config, summary, activity, now)   # pure: what is wrong
    notify_operator(config, notices, now)                # mail [alerts] operator, once per problem

An operator hears about a pass whose every feed failed and about a database that stored no
article for ``[schedule] stale_hours``; the same problem is mailed again at most once per that
period (or per day), and again as soon as it comes back after being fixed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from newsradar.alerts.transport import transport_for
from newsradar.atomic import write_atomic
from newsradar.config import Config
from newsradar.errors import StoreError
from newsradar.pipeline import RunSummary
from newsradar.store import open_reader
from newsradar.store.activity import StoreActivity, store_activity

__all__ = [
    "OperatorNotice",
    "check_pass",
    "kv",
    "md_escape",
    "notify_operator",
    "operator_notices",
    "summary_markdown",
]

log = logging.getLogger("newsradar.monitor")


def kv(event: str, **fields: object) -> str:
    """A structured log line: ``event key=value ...`` (values with spaces quoted)."""
    parts = [event]
    for key, value in fields.items():
        text = str(value).replace("\n", " ")
        parts.append(f"{key}={json.dumps(text) if (' ' in text or not text) else text}")
    return " ".join(parts)


def md_escape(text: str, limit: int = 200) -> str:
    """Text from feeds is hostile: keep it on one line and inert inside a Markdown table."""
    text = " ".join(text.split())[:limit]
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in "\\`*_{}[]|#!":
        text = text.replace(char, "\\" + char)
    return text


def summary_markdown(summary: RunSummary) -> str:
    """The pass summary for the Prefect UI: feeds failing, matches per watch, alerts sent."""
    lines = [
        f"# Pass {md_escape(summary.run_id)}",
        "",
        f"- feeds ok: **{len(summary.feeds_ok)}**, failed: **{len(summary.feeds_failed)}**, "
        f"not due: {summary.feeds_skipped}",
        f"- new entries: {summary.entries_new}, articles stored: **{summary.articles_stored}**",
        f"- alerts sent: **{summary.alerts_sent}**, failed: {summary.alerts_failed}, "
        f"pending retry: {summary.alerts_pending}",
        f"- took {summary.seconds:.1f} s",
        "",
        "## Feeds failing",
        "",
    ]
    if summary.feeds_failed:
        lines += ["| feed | error | detail |", "|---|---|---|"]
        lines += [
            f"| {md_escape(feed)} | {md_escape(kind)} | {md_escape(message)} |"
            for feed, kind, message in summary.feeds_failed
        ]
    else:
        lines.append("None.")
    lines += ["", "## Matches per watch", ""]
    if summary.matches_per_watch:
        lines += ["| watch | articles |", "|---|---|"]
        ranked = sorted(summary.matches_per_watch.items(), key=lambda kv: (-kv[1], kv[0]))
        lines += [f"| {md_escape(watch)} | {count} |" for watch, count in ranked]
    else:
        lines.append("No new matches.")
    return "\n".join(lines) + "\n"


_WHERE_TO_LOOK = (
    'Look at the last passes: newsradar sql "SELECT * FROM runs ORDER BY started_at DESC '
    'LIMIT 20", and at the failing feeds: newsradar sql "SELECT id, error_class, '
    'error_message FROM feeds WHERE consecutive_failures > 0 AND removed_at IS NULL".'
)


@dataclass(frozen=True, slots=True)
class OperatorNotice:
    # "all_feeds_failed" or "nothing_stored": one mail per kind per period.
    kind: str
    subject: str
    body: str


def operator_notices(
    config: Config, summary: RunSummary | None, activity: StoreActivity, now: datetime
) -> list[OperatorNotice]:
    """What the operator must hear about after a pass (pure)."""
    notices: list[OperatorNotice] = []
    if summary is not None and summary.feeds_failed and not summary.feeds_ok:
        reasons = "\n".join(f"  {f}: {k}: {m[:300]}" for f, k, m in summary.feeds_failed)
        notices.append(
            OperatorNotice(
                "all_feeds_failed",
                f"newsradar: every feed failed in pass {summary.run_id}",
                f"All {len(summary.feeds_failed)} feeds polled in pass {summary.run_id} failed:\n"
                f"{reasons}\n\nCheck the network, DNS and proxy of the machine running "
                "newsradar, then the feeds' URLs in feeds.toml.",
            )
        )
    hours = config.schedule.stale_hours
    since = activity.last_stored_at or activity.first_run_at
    if hours > 0 and since is not None and now - since > timedelta(hours=hours):
        what = "since it first ran" if activity.last_stored_at is None else "since"
        quiet = (now - since).total_seconds() / 3600
        notices.append(
            OperatorNotice(
                "nothing_stored",
                f"newsradar: no new article stored for {quiet:.0f} h",
                f"No pass has stored an article {what} {since:%Y-%m-%d %H:%M %Z} "
                f"([schedule] stale_hours = {hours:g}).\n{_WHERE_TO_LOOK}",
            )
        )
    return notices


def _state_path(config: Config) -> Path:
    return config.storage.database.with_suffix(".operator.json")


def _load_state(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _message(config: Config, notice: OperatorNotice, recipient: str, now: datetime) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = notice.subject
    msg["From"] = config.smtp.sender if config.smtp else "newsradar@localhost"
    msg["To"] = recipient
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain="newsradar")
    msg.set_content(notice.body)
    return msg


def _send(config: Config, msg: EmailMessage, recipient: str, mail_id: str) -> str:
    """Hand one mail to the alerts package's transport: SMTP, or an ``.eml`` in the outbox."""
    transport = transport_for(config)
    try:
        return transport.send(msg, recipient, mail_id)
    finally:
        transport.close()


def notify_operator(config: Config, notices: list[OperatorNotice], now: datetime) -> list[str]:
    """Mail each notice to ``[alerts] operator`` unless it went out within the period.

    Returns where each mail went. Never raises for a delivery problem: the pass it reports on
    has already been recorded, and the next pass tries again.
    """
    path = _state_path(config)
    state = _load_state(path)
    period = timedelta(hours=config.schedule.stale_hours or 24)
    current = {n.kind for n in notices}
    # A problem that went away is forgotten, so its return is mailed at once.
    state = {k: v for k, v in state.items() if k in current}
    sent: list[str] = []
    operator = config.alerts.operator
    for notice in notices:
        last = state.get(notice.kind)
        if last and now - datetime.fromisoformat(last) < period:
            continue
        if not operator:
            log.warning(
                kv("operator_notice_unsent", kind=notice.kind, reason="no [alerts] operator")
            )
            continue
        try:
            mail_id = f"operator-{notice.kind.replace('_', '-')}-{now:%Y%m%dT%H%M%S}"
            msg = _message(config, notice, operator, now)
            sent.append(_send(config, msg, operator, mail_id))
        except Exception as exc:  # a broken mail path must not fail the pass it reports on
            log.warning(kv("operator_notice_failed", kind=notice.kind, error=exc))
            continue
        log.warning(kv("operator_notified", kind=notice.kind, to=operator))
        state[notice.kind] = now.isoformat()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Whole or not at all: a cut-off file would forget every notice and mail them again.
        write_atomic(path, json.dumps(state, indent=1))
    except OSError as exc:  # the mails went out; the next pass may repeat them, no worse
        log.warning(kv("operator_state_unsaved", path=path, error=exc))
    return sent


def check_pass(config: Config, summary: RunSummary | None, now: datetime) -> list[str]:
    """After a pass: mail the operator about what is wrong; return where the mails went."""
    try:
        with open_reader(config.storage.database, lock_timeout=config.storage.lock_timeout) as con:
            activity = store_activity(con)
    except StoreError as exc:  # an analyst holds the file: check the silence next time
        log.warning(kv("operator_check_skipped", error=exc))
        activity = StoreActivity(None, None)
    return notify_operator(config, operator_notices(config, summary, activity, now), now)
