"""Delivering due alerts: one digest per recipient, by SMTP, as ``.eml`` files, or to a channel.

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
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import duckdb

from newsradar.alerts.channels import ApprisePoster, ChannelNotReadyError, is_channel
from newsradar.alerts.digest import Digest, build_digest, digest_id
from newsradar.alerts.message import build_message, check_address
from newsradar.alerts.outbox import due_function
from newsradar.alerts.schedule import delivery_for, parse_timezone, retry_delay
from newsradar.alerts.transport import Transport, transport_for
from newsradar.config import Config
from newsradar.errors import (
    DeliveryBlockedError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from newsradar.spikes import describe_spikes, queue_spike_alerts
from newsradar.store import alerts as outbox
from newsradar.store import open_writer, transaction
from newsradar.trends import SPIKE_KIND

__all__ = [
    "DeliveryReport",
    "DigestPlan",
    "configured_recipients",
    "deliver_pending",
    "plan_digests",
    "prepare_digests",
    "queue_spikes",
]


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
    # Why rows wait for a retry (server down, 4xx, outbox not writable), each reason once.
    retries: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DigestPlan:
    """The outbox rows one mail will carry."""

    recipient: str
    rows: tuple[outbox.PendingAlert, ...]
    # Kept from an earlier claim (a retry), else derived from the row ids.
    digest_id: str


def plan_digests(rows: Sequence[outbox.PendingAlert], max_stories: int) -> list[DigestPlan]:
    """Group due rows into mails: claimed groups stay whole; new rows, per recipient, capped."""
    claimed: dict[str, list[outbox.PendingAlert]] = {}
    fresh: dict[str, list[outbox.PendingAlert]] = {}
    for row in rows:
        if row.digest_id:
            claimed.setdefault(row.digest_id, []).append(row)
        else:
            fresh.setdefault(row.recipient, []).append(row)
    batches = [DigestPlan(r[0].recipient, tuple(r), d) for d, r in claimed.items()]
    for recipient, mine in fresh.items():
        # Oldest stories first into the mail; the rest wait for the next digest.
        stories = set(list(dict.fromkeys(r.story_id for r in mine))[:max_stories])
        keep = tuple(r for r in mine if r.story_id in stories)
        batches.append(DigestPlan(recipient, keep, digest_id([r.id for r in keep])))
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
        with transaction(con):
            for batch in batches:
                fresh = [r.id for r in batch.rows if r.digest_id != batch.digest_id]
                if fresh:
                    outbox.claim_digest(con, fresh, batch.digest_id)
    chosen = [r for b in batches for r in b.rows]
    article_ids = sorted({r.article_id for r in chosen if r.kind != SPIKE_KIND})
    story_ids = sorted({r.story_id for r in chosen if r.kind != SPIKE_KIND})
    articles = {a.id: a for a in outbox.load_articles(con, article_ids)}
    matches = outbox.load_matches(con, article_ids, sorted({r.watch_id for r in chosen}))
    copies: dict[str, list[outbox.StoryArticle]] = {}
    for article in outbox.load_copies(con, story_ids):
        copies.setdefault(article.story_id, []).append(article)
    names = {w.id: w.display_name for w in config.watches}
    notes = describe_spikes(con, config, [r.story_id for r in chosen if r.kind == SPIKE_KIND])
    sentences = {k: n.sentence(names.get(n.watch_id, n.watch_id)) for k, n in notes.items()}
    tz = parse_timezone(config.alerts.timezone)
    digests = [
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
            spikes=sentences,
        )
        for batch in batches
    ]
    if config.alerts.chart_days:
        digests = [
            _with_chart(con, config, d, b, now) if _periodic(config, b) else d
            for d, b in zip(digests, batches, strict=True)
        ]
    return digests


def _periodic(config: Config, batch: DigestPlan) -> bool:
    """Daily and weekly digests carry the trend chart; immediate and hourly ones stay short."""
    watches = {w.id: w for w in config.watches}
    alerts = config.alerts
    for row in batch.rows:
        watch = watches.get(row.watch_id)
        mode = delivery_for(
            batch.recipient,
            watch.delivery if watch else None,
            alerts.delivery_by_recipient,
            alerts.delivery,
        )
        if mode.every in ("daily", "weekly"):
            return True
    return False


def _with_chart(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    digest: Digest,
    batch: DigestPlan,
    now: datetime | None,
) -> Digest:
    """The digest with a stories-per-day chart of its watches; unchanged if drawing fails."""
    rank = {w.id: i for i, w in enumerate(config.watches)}
    watch_ids = sorted({r.watch_id for r in batch.rows}, key=lambda w: (rank.get(w, len(rank)), w))
    try:
        # Imported here: matplotlib is only loaded when charts are on.
        from newsradar.charts import digest_chart

        tz = config.alerts.timezone
        today = (now or datetime.now(UTC)).astimezone(parse_timezone(tz)).date()
        chart = digest_chart(
            con, watch_ids, days=config.alerts.chart_days, today=today, tz=tz,
            labels={w.id: w.display_name for w in config.watches},
        )  # fmt: skip
    except Exception:  # a chart is decoration: it never holds back the alerts
        return digest
    return replace(digest, chart_png=chart.png, chart_alt=chart.alt, chart_cid=chart.cid)


def _retry_at(config: Config, digest: Digest, now: datetime) -> datetime:
    delay = retry_delay(
        digest.attempts + 1, config.alerts.retry_backoff, config.alerts.retry_backoff_cap
    )
    return now + delay


def configured_recipients(config: Config) -> frozenset[str]:
    """Everyone the configuration names; rows for anyone else are not delivered."""
    named = set(config.alerts.recipients) | set(config.alerts.delivery_by_recipient)
    for watch in config.watches:
        named.update(watch.recipients)
    return frozenset(named)


class _RenderError(Exception):
    """A digest that could not be turned into a mail (never expected; reported, retried)."""


class _Delivery:
    """One delivery run: sends digests in order and marks their rows at once."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, config: Config, now: datetime, wire: Transport
    ) -> None:
        self.con, self.config, self.now, self.wire = con, config, now, wire
        self.sender = config.smtp.sender if config.smtp else "newsradar@localhost"
        self.channels = ApprisePoster(config.alerts.channels)
        self.recipients = configured_recipients(config)
        self.counts = {"sent": 0, "failed": 0, "retrying": 0, "pending": 0}
        self.mails: list[str] = []
        self.failures: list[str] = []
        self.problems: list[str] = []
        self.retries: list[str] = []
        # Set once the mail server refused us (TLS, AUTH) or could not be reached.
        self.blocked: str | None = None
        self.down: str | None = None

    def report(self) -> DeliveryReport:
        return DeliveryReport(
            mails=tuple(self.mails),
            failures=tuple(self.failures),
            problems=tuple(self.problems),
            retries=tuple(self.retries),
            **self.counts,
        )

    def _fail(self, digest: Digest, error: str) -> None:
        outbox.mark_failed(self.con, digest.alert_ids, error=error)
        outbox.record_event(self.con, self.now, digest.id, "delivery_failed", error)
        self.counts["failed"] += len(digest.alert_ids)
        self.failures.append(f"{digest.recipient}: {error}")

    def _wait(self, digest: Digest, error: str) -> None:
        outbox.note_blocked(self.con, digest.alert_ids, error=error)
        self.counts["pending"] += len(digest.alert_ids)

    def _retry(self, digest: Digest, error: str) -> None:
        due = _retry_at(self.config, digest, self.now)
        outbox.mark_retrying(self.con, digest.alert_ids, error=error, due_at=due)
        self.counts["retrying"] += len(digest.alert_ids)
        if error not in self.retries:
            self.retries.append(error)

    def _send(self, digest: Digest) -> str:
        if is_channel(digest.recipient):
            return self.channels.send(digest)
        try:
            msg = build_message(digest, sender=self.sender, now=self.now)
        except Exception as exc:  # a bug or odd data in one digest must not stop the others
            raise _RenderError(f"digest {digest.id} could not be rendered: {exc!r}") from exc
        return self.wire.send(msg, digest.recipient, digest.id)

    def _configured(self, recipient: str) -> bool:
        # Compared in the configuration's spelling: rows queued before domains were
        # lowercased ("a@Example.org") still belong to "a@example.org".
        try:
            return check_address(recipient) in self.recipients
        except ValueError:
            return False

    def deliver(self, digest: Digest) -> None:
        mail = not is_channel(digest.recipient)
        if mail and not self._configured(digest.recipient):
            return self._fail(digest, "recipient no longer in the configuration; not sent")
        if digest.is_empty:
            return self._fail(digest, "the articles of these alerts are no longer stored")
        if mail and self.blocked is not None:
            return self._wait(digest, self.blocked)
        if mail and self.down is not None:
            # The server is unreachable: do not knock again for each recipient.
            return self._retry(digest, self.down)
        try:
            where = self._send(digest)
        except _RenderError as exc:
            # Kept and retried: once the cause is fixed the alerts go out; the operator is told.
            self.problems.append(f"{digest.recipient}: {exc}")
            return self._retry(digest, str(exc))
        except ChannelNotReadyError as exc:
            # Only this channel waits for the operator; mail and other channels go on.
            self.problems.append(str(exc))
            return self._wait(digest, str(exc))
        except DeliveryBlockedError as exc:
            self.blocked = str(exc)
            self.problems.append(self.blocked)
            outbox.record_event(self.con, self.now, digest.id, "delivery_blocked", self.blocked)
            return self._wait(digest, self.blocked)
        except TransientDeliveryError as exc:
            if exc.server_down:
                self.down = str(exc)
            return self._retry(digest, str(exc))
        except PermanentDeliveryError as exc:
            return self._fail(digest, str(exc))
        outbox.mark_sent(self.con, digest.alert_ids, now=self.now, digest_id=digest.id)
        self.counts["sent"] += len(digest.alert_ids)
        self.mails.append(where)
        return None


def queue_spikes(config: Config, now: datetime) -> int:
    """Queue spike alerts (:mod:`newsradar.spikes`) for each recipient's next digest slot.

    One short transaction; a spike already in the outbox is not queued again. Returns how many
    rows were new.
    """
    with open_writer(config.storage.database, lock_timeout=config.storage.lock_timeout) as con:
        with transaction(con):
            queued = queue_spike_alerts(con, config, now, due_function(config, now))
    return queued


def deliver_pending(
    config: Config, *, now: datetime | None = None, transport: Transport | None = None
) -> DeliveryReport:
    """Send every due digest; never raises for one bad recipient; nothing due sends nothing.

    >>> report = deliver_pending(load_config("config"))          # doctest: +SKIP
    >>> report.sent, report.mails
    """
    now = now or datetime.now(UTC)
    db = config.storage.database
    with open_writer(db, lock_timeout=config.storage.lock_timeout) as con:
        digests = prepare_digests(con, config, now)
        if not digests:
            return DeliveryReport()
        run = _Delivery(con, config, now, transport or transport_for(config))
        try:
            for digest in digests:
                run.deliver(digest)
        finally:
            run.wire.close()
    return run.report()
