"""Delivering due alerts: one digest per recipient, by SMTP or as ``.eml`` files.

The outbox protocol, in short transactions on one writer connection:

1. select due rows (pending or retrying, ``due_at`` passed);
2. claim: group them into digests and write each digest's id on its rows BEFORE sending;
   rows that already carry a digest id (a retry, or a crash after the claim) keep it, so the
   resent mail has the same Message-ID;
3. send each digest and mark its rows at once: sent, retrying (back-off) or failed.

A crash between 3's send and its mark resends the same mail once: at-least-once delivery with
at most one visible duplicate, recognisable by its Message-ID.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from newsradar.alerts.digest import Digest, build_digest, digest_id
from newsradar.alerts.message import build_message
from newsradar.alerts.schedule import parse_timezone, retry_delay
from newsradar.alerts.transport import EmlTransport, SmtpTransport, Transport
from newsradar.config import Config
from newsradar.errors import (
    DeliveryBlockedError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from newsradar.store import alerts as outbox
from newsradar.store import open_writer

__all__ = ["DeliveryReport", "deliver_pending", "plan_digests", "prepare_digests"]


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery run did; counts are alert rows, not mails."""

    sent: int = 0
    failed: int = 0
    retrying: int = 0
    # Where each mail went: .eml paths, or Message-IDs for SMTP.
    mails: tuple[str, ...] = ()
    # Rows left pending because delivery was blocked (TLS, AUTH) or the server was down.
    pending: int = 0
    # One line per permanent failure ("analyst@x: 550 no such user").
    failures: tuple[str, ...] = ()
    # Problems the operator must fix before anything can be sent (TLS, AUTH, sender).
    problems: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class _Batch:
    recipient: str
    rows: tuple[outbox.PendingAlert, ...]
    digest_id: str


def plan_digests(rows: Sequence[outbox.PendingAlert], max_stories: int) -> list[_Batch]:
    """Group due rows into mails: claimed groups stay whole; new rows, per recipient, capped."""
    claimed: dict[str, list[outbox.PendingAlert]] = {}
    fresh: dict[str, list[outbox.PendingAlert]] = {}
    for row in rows:
        if row.digest_id:
            claimed.setdefault(row.digest_id, []).append(row)
        else:
            fresh.setdefault(row.recipient, []).append(row)
    batches = [_Batch(r[0].recipient, tuple(r), d) for d, r in claimed.items()]
    for recipient, mine in fresh.items():
        # Oldest stories first into the mail; the rest wait for the next digest.
        stories = list(dict.fromkeys(r.story_id for r in mine))[:max_stories]
        keep = tuple(r for r in mine if r.story_id in set(stories))
        batches.append(_Batch(recipient, keep, digest_id([r.id for r in keep])))
    return sorted(batches, key=lambda b: (b.recipient, min(r.created_at for r in b.rows)))


def prepare_digests(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    now: datetime | None,
    *,
    recipient: str | None = None,
    claim: bool = True,
) -> list[Digest]:
    """Select due rows, group them into digests (claiming them unless previewing), render data."""
    rows = outbox.due_alerts(con, now, recipient=recipient)
    if not rows:
        return []
    batches = plan_digests(rows, config.alerts.max_stories)
    if claim:
        con.execute("BEGIN TRANSACTION")
        for batch in batches:
            fresh = [r.id for r in batch.rows if r.digest_id != batch.digest_id]
            if fresh:
                outbox.claim_digest(con, fresh, batch.digest_id)
        con.execute("COMMIT")
    chosen = [r for b in batches for r in b.rows]
    article_ids = sorted({r.article_id for r in chosen})
    story_ids = sorted({r.story_id for r in chosen})
    articles = {a.id: a for a in outbox.load_articles(con, article_ids)}
    matches = outbox.load_matches(con, article_ids, sorted({r.watch_id for r in chosen}))
    copies: dict[str, list[outbox.StoryArticle]] = {}
    for article in outbox.load_copies(con, story_ids):
        copies.setdefault(article.story_id, []).append(article)
    names = {w.id: w.display_name for w in config.watches}
    tz = parse_timezone(config.alerts.timezone)
    return [
        build_digest(
            batch.recipient,
            batch.rows,
            articles,
            matches,
            copies,
            watch_names=names,
            tz=tz,
            snippet_chars=config.alerts.snippet_chars,
            max_snippets=config.alerts.max_snippets,
            known_id=batch.digest_id,
        )
        for batch in batches
    ]


def _retry_at(config: Config, digest: Digest, now: datetime) -> datetime:
    delay = retry_delay(
        digest.attempts + 1, config.alerts.retry_backoff, config.alerts.retry_backoff_cap
    )
    return now + delay


def _transport(config: Config) -> Transport:
    if config.smtp is None:
        return EmlTransport(config.alerts.outbox_dir)
    return SmtpTransport(config.smtp)


def deliver_pending(
    config: Config, *, now: datetime | None = None, transport: Transport | None = None
) -> DeliveryReport:
    """Send every due digest; never raises for one bad recipient; nothing due sends nothing.

    >>> report = deliver_pending(load_config("config"))          # doctest: +SKIP
    >>> report.sent, report.mails
    """
    now = now or datetime.now(UTC)
    sender = config.smtp.sender if config.smtp else "newsradar@localhost"
    sent = failed = retrying = pending = 0
    mails: list[str] = []
    failures: list[str] = []
    problems: list[str] = []
    db = config.storage.database
    with open_writer(db, lock_timeout=config.storage.lock_timeout) as con:
        digests = prepare_digests(con, config, now)
        if not digests:
            return DeliveryReport()
        wire = transport or _transport(config)
        blocked: str | None = None
        down: str | None = None
        try:
            for digest in digests:
                ids = list(digest.alert_ids)
                if blocked is not None:
                    outbox.note_blocked(con, ids, error=blocked)
                    pending += len(ids)
                    continue
                if digest.story_count == 0:
                    error = "the articles of these alerts are no longer in the database"
                    outbox.mark_failed(con, ids, error=error)
                    failed += len(ids)
                    failures.append(f"{digest.recipient}: {error}")
                    continue
                if down is not None:
                    # The server is unreachable: do not knock again for each recipient.
                    due = _retry_at(config, digest, now)
                    outbox.mark_retrying(con, ids, error=down, due_at=due)
                    retrying += len(ids)
                    continue
                msg = build_message(digest, sender=sender, now=now)
                try:
                    where = wire.send(msg, digest.recipient, digest.id)
                except TransientDeliveryError as exc:
                    due = _retry_at(config, digest, now)
                    outbox.mark_retrying(con, ids, error=str(exc), due_at=due)
                    retrying += len(ids)
                    if exc.server_down:
                        down = str(exc)
                    continue
                except PermanentDeliveryError as exc:
                    outbox.mark_failed(con, ids, error=str(exc))
                    outbox.record_event(con, now, digest.id, "delivery_failed", str(exc))
                    failed += len(ids)
                    failures.append(f"{digest.recipient}: {exc}")
                    continue
                except DeliveryBlockedError as exc:
                    blocked = str(exc)
                    problems.append(blocked)
                    outbox.record_event(con, now, digest.id, "delivery_blocked", blocked)
                    outbox.note_blocked(con, ids, error=blocked)
                    pending += len(ids)
                    continue
                outbox.mark_sent(con, ids, now=now, digest_id=digest.id)
                sent += len(ids)
                mails.append(where)
        finally:
            wire.close()
    return DeliveryReport(
        sent=sent,
        failed=failed,
        retrying=retrying,
        mails=tuple(mails),
        pending=pending,
        failures=tuple(failures),
        problems=tuple(problems),
    )
