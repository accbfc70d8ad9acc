"""One monitoring pass as plain functions; the Prefect flow in ``flows/`` only sequences them.

    ctx = begin_pass(config)                 # migrate, sync feeds/watches, load fetch state
    polled = poll_feeds(config, ctx)          # fetch + parse feeds, keep entries not seen before
    stored = store_entries(config, ctx, polled)   # pages, extraction, matching, one tx per batch
    delivered = deliver_alerts(config)        # digests from the outbox
    summary = finish_pass(config, ctx, polled, stored, delivered)

Every function takes and returns plain data, so each can run as a Prefect task or on its own.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from newsradar.alerts import (
    DeliveryReport,
    MatchedArticle,
    deliver_pending,
    plan_alerts,
    queue_spikes,
)
from newsradar.articles import build_article, worth_updating
from newsradar.config import Config, WatchConfig
from newsradar.dedup import StoryIndex
from newsradar.errors import ExtractError, FetchError, PermanentFetchError, bug_message
from newsradar.extract import ExtractedPage
from newsradar.extract_pool import ExtractJob, ExtractorPool
from newsradar.feeds import start_parser
from newsradar.fetch import Fetcher
from newsradar.identity import (
    EntryKeys,
    KnownArticle,
    KnownKeys,
    classify_entry,
    copy_key,
)
from newsradar.match import Document, Matcher
from newsradar.mentions import match_rows, watch_rows
from newsradar.models import Article, FeedEntry, FeedPoll, FeedState, FetchResult
from newsradar.polling import is_due, poll_due_feeds
from newsradar.progress import Progress, Ticker
from newsradar.store import open_writer, transaction
from newsradar.store.feeds import (
    load_feed_states,
    load_host_blocks,
    save_host_blocks,
    save_polls,
    sync_feeds,
)
from newsradar.store.stories import (
    known_articles,
    load_copy_keys,
    load_signatures,
    previous_watches,
    refresh_signatures,
)
from newsradar.store.writer import (
    Event,
    MatchRow,
    finish_run,
    record_events,
    start_run,
    sync_watches,
    write_batch,
)

__all__ = [
    "DeliveryReport",
    "Event",
    "PassContext",
    "PollResult",
    "RunSummary",
    "StoreResult",
    "batch_sizes",
    "begin_pass",
    "compiled_matcher",
    "deliver_alerts",
    "finish_pass",
    "new_run_id",
    "poll_feeds",
    "start_workers",
    "store_entries",
]


# A copy published this long after the lead still joins its story.
STORY_WINDOW = timedelta(days=7)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PassContext:
    run_id: str
    started_at: datetime
    states: dict[str, FeedState]
    host_blocks: dict[str, datetime]


@dataclass(frozen=True, slots=True)
class PollResult:
    polls: tuple[FeedPoll, ...]
    # Entries not seen before, grouped by feed in configuration order; entries flagged
    # "update" are stored articles whose headline or date changed, to fetch again.
    entries: tuple[FeedEntry, ...]
    events: tuple[Event, ...]
    host_blocks: dict[str, datetime]
    seconds: float
    # (feed id, guid) of each "update" entry -> the stored article it updates.
    updates: dict[tuple[str, str], KnownArticle] = field(default_factory=dict)

    @property
    def new_entries(self) -> int:
        return sum("update" not in e.flags for e in self.entries)


@dataclass(frozen=True, slots=True)
class StoreResult:
    articles: int = 0
    matches: int = 0
    alerts_queued: int = 0
    matches_per_watch: dict[str, int] = field(default_factory=dict)
    extract_seconds: float = 0.0
    match_seconds: float = 0.0
    store_seconds: float = 0.0
    errors: int = 0


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: str
    feeds_ok: tuple[str, ...]
    # (feed id, error class, message) for every feed that failed this pass.
    feeds_failed: tuple[tuple[str, str, str], ...]
    feeds_skipped: int
    entries_new: int
    articles_stored: int
    matches_per_watch: dict[str, int]
    alerts_sent: int
    alerts_failed: int
    alerts_pending: int
    deliveries: tuple[str, ...]
    seconds: float
    # Permanent failures ("recipient: 550 ...") and blocked delivery (TLS, AUTH) to report.
    alert_problems: tuple[str, ...] = ()


@lru_cache(maxsize=4)
def _compile(watches: tuple[WatchConfig, ...], source: str) -> Matcher:
    return Matcher.compile(watches, source=source)


def compiled_matcher(config: Config) -> Matcher:
    """The configuration's watchlist, compiled once per process (a large one takes seconds)."""
    return _compile(config.watches, str(config.watchlist_path))


def new_run_id(now: datetime) -> str:
    """A pass's id in ``runs``: its start time, sortable, and a random suffix."""
    return now.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]


def begin_pass(
    config: Config, *, run_id: str | None = None, now: datetime | None = None
) -> PassContext:
    """Migrate the database, record the configuration, and load what the poller remembers.

    ``run_id`` (from `new_run_id`) is the pass's row in ``runs``; a caller that retries this
    passes the same one each time, so that a retry reuses the row an earlier attempt committed.
    """
    now = now or _now()
    matcher = compiled_matcher(config)
    run_id = run_id or new_run_id(now)
    watches = watch_rows(matcher, config.watches)
    with open_writer(config.storage.database, lock_timeout=config.storage.lock_timeout) as con:
        with transaction(con):
            sync_feeds(con, config.feeds, now)
            sync_watches(con, watches, now)
            started_at = start_run(con, run_id, now)
        states = load_feed_states(con, now)
        blocks = load_host_blocks(con, now)
    if any(is_due(f, states.get(f.name), now) for f in config.feeds):
        # Feeds to parse and pages to extract follow most polls.
        start_workers()
    return PassContext(run_id, started_at, states, blocks)


def start_workers() -> None:
    """Start the pass's worker processes in the background: the forkserver, which imports
    trafilatura and feedparser once, and the feed parser's workers forked from it (starting
    the parser starts the server the extraction workers fork from later).

    Idempotent. ``newsradar run`` calls it as it starts, so the imports overlap Prefect's
    start; a served run starts them in `begin_pass`, when some feed is due.
    """
    start_parser()


def poll_feeds(config: Config, ctx: PassContext, *, progress: Progress | None = None) -> PollResult:
    """Fetch every due feed concurrently and keep the entries the database has not seen."""
    started = time.monotonic()
    now = _now()
    due = [f for f in config.feeds if is_due(f, ctx.states.get(f.name), now)]
    ticker = Ticker(progress, "feeds", len(due))
    results, blocks = asyncio.run(poll_due_feeds(config, due, ctx.states, ctx.host_blocks, ticker))
    candidates = [e for _, entries, _ in results for e in entries]
    # --- identity: new, update or seen, by guid, canonical URL and content (identity.py) ---
    keys = [
        EntryKeys(e.feed_id, e.guid, e.canonical_url, e.title, updated_at=e.updated_at, url=e.url)
        for e in candidates
    ]
    stored: dict[str, KnownArticle] = {}
    if candidates:
        with open_writer(config.storage.database, lock_timeout=config.storage.lock_timeout) as con:
            stored = {a.article_id: a for a in known_articles(con, keys)}
    known = KnownKeys.of(stored.values())
    fresh: list[FeedEntry] = []
    updates: dict[tuple[str, str], KnownArticle] = {}
    for entry, key in zip(candidates, keys, strict=True):
        # Items of one feed sharing a link are flagged by the parser; stored ones by `known`.
        is_shared = "shared_link" in entry.flags or known.link_shared(key)
        verdict = classify_entry(key, known, shared_link=is_shared)
        # An edited headline or a newer "updated" date: fetch the stored article again.
        before = stored.get(verdict.article_id)
        if verdict.kind == "update" and before and (key.feed_id, key.guid) not in updates:
            updates[(key.feed_id, key.guid)] = before
            fresh.append(replace(entry, flags=(*entry.flags, "update")))
        if verdict.kind != "new":
            continue
        known.add(KnownArticle(verdict.article_id, key.feed_id, key.guid, key.canonical_url,
                               key.title, ""))  # fmt: skip
        if is_shared and "shared_link" not in entry.flags:
            # The link every item shares is not this item's article: keep the feed's text.
            entry = replace(entry, flags=(*entry.flags, "shared_link"))
        fresh.append(entry)
    new_per_feed = Counter(e.feed_id for e in fresh if "update" not in e.flags)
    polls = tuple(replace(p, new_items=new_per_feed[p.feed_id]) for p, _, _ in results)
    events = tuple(e for _, _, evs in results for e in evs)
    return PollResult(polls, tuple(fresh), events, blocks, time.monotonic() - started, updates)


async def _fetch_pages(
    fetcher: Fetcher, entries: Sequence[FeedEntry], ticker: Ticker | None = None
) -> list[FetchResult | FetchError | None]:
    async def one(entry: FeedEntry) -> FetchResult | FetchError | None:
        if not entry.url or "shared_link" in entry.flags:
            return None
        try:
            return await fetcher.fetch_page(entry.url)
        except FetchError as exc:
            return exc
        except Exception as exc:  # a bug on one hostile page must not end the pass
            return PermanentFetchError("internal_error", entry.url, bug_message(exc))

    ticker = ticker or Ticker(None, "pages", 0)
    return list(await asyncio.gather(*(ticker.wrap(one(e)) for e in entries)))


def batch_sizes(total: int, size: int) -> list[int]:
    """How many of ``total`` entries go in each batch: ``size``, ramping up from ``size / 8``
    at the start and down to it at the end.

    Pages are extracted a batch at a time, fetched one batch ahead and stored one batch
    behind: the workers wait for the whole first batch to be fetched and for the whole last
    one to be stored. Small batches at both ends keep those waits short.
    """
    ramp = [step for step in (size // 8, size // 4, size // 2) if step > 0]
    head: list[int] = []
    tail: list[int] = []
    left = total
    for step in ramp:
        for side in (head, tail):
            take = min(step, left)
            if take:
                side.append(take)
                left -= take
    middle = [size] * (left // size) + ([left % size] if left % size else [])
    return head + middle + tail[::-1]


# One batch's pages, what the workers made of them (by position) and when.
Extracted = tuple[
    Sequence[FeedEntry],
    list[FetchResult | FetchError | None],
    dict[str, ExtractedPage | ExtractError],
    datetime,
]


def store_entries(
    config: Config, ctx: PassContext, polled: PollResult, *, progress: Progress | None = None
) -> StoreResult:
    """Fetch, extract and match new entries, storing each batch in one transaction."""
    matcher = compiled_matcher(config)
    entries = polled.entries
    page_ticker = Ticker(progress, "pages", len(entries))
    extract_ticker = Ticker(progress, "extraction", len(entries))
    batches: list[Sequence[FeedEntry]] = []
    last_batch_of_feed: dict[str, int] = {}
    start = 0
    for size in batch_sizes(len(entries), config.storage.batch_size):
        batch = entries[start : start + size]
        last_batch_of_feed.update((e.feed_id, len(batches)) for e in batch)
        batches.append(batch)
        start += size
    polls_by_batch: dict[int, list[FeedPoll]] = {}
    for poll in polled.polls:
        if poll.feed_id in last_batch_of_feed:
            polls_by_batch.setdefault(last_batch_of_feed[poll.feed_id], []).append(poll)
    totals: Counter[str] = Counter()
    # Each key is added to by one thread only: "build" is extraction's share in `process`.
    timings: dict[str, float] = {"extract": 0.0, "build": 0.0, "match": 0.0, "store": 0.0}
    per_watch: Counter[str] = Counter()

    def extract(
        batch: Sequence[FeedEntry], pages: list[FetchResult | FetchError | None]
    ) -> Extracted:
        """Extraction, in worker processes with hard time and memory limits."""
        now = _now()
        t0 = time.monotonic()
        jobs = [
            ExtractJob(str(i), p.body, p.final_url, p.headers.get("content-type"))
            for i, p in enumerate(pages)
            if isinstance(p, FetchResult)
        ]
        extracted = dict(pool.extract_many(jobs))
        extract_ticker.tick(len(batch))
        timings["extract"] += time.monotonic() - t0
        return batch, pages, extracted, now

    def process(index: int, done: Extracted) -> None:
        """Articles, story ids, matching and alert planning, then the batch's one transaction.

        Articles are built here rather than in ``extract``, so the workers start on the next
        batch while this one is assembled.
        """
        batch, pages, extracted, now = done
        t0 = time.monotonic()
        built = [
            build_article(e, p, extracted.get(str(i)), now)
            for i, (e, p) in enumerate(zip(batch, pages, strict=True))
        ]
        t1 = time.monotonic()
        timings["build"] += t1 - t0
        # --- story ids: near-duplicates join the story of the first copy seen ---
        articles: list[Article] = []
        updated: list[Article] = []
        for article, _ in built:
            before = polled.updates.get((article.feed_id, article.guid))
            if before is None:
                key = copy_key(article.title, article.content_hash)
                story_id = story_index.assign(article.id, article.text, key)[0]
                articles.append(replace(article, story_id=story_id))
            elif worth_updating(article, before):
                article = replace(article, id=before.article_id, story_id=before.story_id)
                articles.append(article)
                updated.append(article)
        events = [ev for _, evs in built for ev in evs]
        update_ids = {a.id for a in updated}
        # What the updated articles match once stored: an update of the same article in a
        # later batch compares with this and what its story matched before.
        now_matching: dict[str, set[str]] = {}
        batch_rows: list[MatchRow] = []
        matched: list[MatchedArticle] = []
        for article in articles:
            doc = Document(
                article.title, article.text, article.url, article.feed_id, article.language
            )
            by_watch = match_rows(matcher, doc, article.id, config.alerts.snippet_chars)
            batch_rows.extend(row for rows in by_watch.values() for row in rows)
            watch_ids = tuple(sorted(by_watch))
            is_update = article.id in update_ids
            if is_update:
                # An update alerts only for the watches its new text fires for the first time
                # in its story; the story's other copies keep what they matched.
                watch_ids = tuple(w for w in watch_ids if w not in previous[article.id])
                now_matching.setdefault(article.id, set()).update(by_watch)
            if watch_ids:
                matched.append(MatchedArticle(article, watch_ids, is_update))
                per_watch.update(watch_ids)
        alert_rows = plan_alerts(config, matched, now)
        t2 = time.monotonic()
        with open_writer(config.storage.database, lock_timeout=config.storage.lock_timeout) as con:
            totals["alerts"] += write_batch(
                con,
                run_id=ctx.run_id,
                articles=articles,
                matches=batch_rows,
                polls=polls_by_batch.get(index, []),
                fetch=config.fetch,
                alerts=alert_rows,
                events=events,
                now=now,
                signatures=story_index.take_new(),
                updated=updated,
            )
        for article_id, watches in now_matching.items():
            previous[article_id] |= watches
        timings["match"] += t2 - t1
        timings["store"] += time.monotonic() - t2
        totals["articles"] += len(articles)
        totals["matches"] += len(batch_rows)
        totals["errors"] += len(events)

    async def run_batches() -> None:
        # Three stages overlap: the pages of batch k+2 are fetched while batch k+1 is
        # extracted and batch k is matched and stored, so the extraction workers do not wait
        # for transactions. Batches are stored in order, one at a time.
        async with Fetcher(config.fetch, host_blocks=polled.host_blocks) as fetcher:
            upcoming = asyncio.create_task(_fetch_pages(fetcher, batches[0], page_ticker))
            storing: asyncio.Future[None] | None = None
            try:
                for index, batch in enumerate(batches):
                    pages = await upcoming
                    if index + 1 < len(batches):
                        upcoming = asyncio.create_task(
                            _fetch_pages(fetcher, batches[index + 1], page_ticker)
                        )
                    done = await asyncio.to_thread(extract, batch, pages)
                    if storing is not None:
                        await storing
                    storing = asyncio.ensure_future(asyncio.to_thread(process, index, done))
                if storing is not None:
                    await storing
            finally:
                # An error elsewhere never leaves a transaction running behind it.
                if storing is not None and not storing.done():
                    await asyncio.wait([storing])
                    if not storing.cancelled():
                        storing.exception()  # retrieved: the first error is the one raised

    if batches:
        # The workers start in the background while the story index loads and the first
        # pages are fetched.
        with ExtractorPool(config.extract) as pool:
            with open_writer(
                config.storage.database, lock_timeout=config.storage.lock_timeout
            ) as con:
                since = ctx.started_at - STORY_WINDOW
                refresh_signatures(con, since=since)  # signatures hashed by an older newsradar
                story_index = StoryIndex.load(load_signatures(con, since=since))
                story_index.add_copies(load_copy_keys(con, since=since))
                # What each article to update, or another copy of its story, matched before
                # this pass; kept current per batch.
                previous = previous_watches(con, [a.article_id for a in polled.updates.values()])
            asyncio.run(run_batches())
    return StoreResult(
        articles=totals["articles"],
        matches=totals["matches"],
        alerts_queued=totals["alerts"],
        matches_per_watch=dict(per_watch),
        extract_seconds=timings["extract"] + timings["build"],
        match_seconds=timings["match"],
        store_seconds=timings["store"],
        errors=totals["errors"],
    )


def deliver_alerts(config: Config) -> DeliveryReport:
    """Queue spike alerts, then send (or write as .eml) the digests that are due."""
    now = _now()
    queue_spikes(config, now)
    return deliver_pending(config, now=now)


def finish_pass(
    config: Config,
    ctx: PassContext,
    polled: PollResult,
    stored: StoreResult,
    delivered: DeliveryReport | None,
    *,
    deliver_seconds: float = 0.0,
) -> RunSummary:
    """Save the state of feeds that brought nothing new and record the run."""
    finished = _now()
    quiet = [p for p in polled.polls if p.new_items == 0]
    failed = tuple(
        (p.feed_id, p.error_class or "error", p.error_message or "") for p in polled.polls
        if p.outcome == "failed"
    )  # fmt: skip
    ok = tuple(p.feed_id for p in polled.polls if p.outcome != "failed")
    skipped = len(config.feeds) - len(polled.polls)
    sent = delivered.sent if delivered else 0
    failed_alerts = delivered.failed if delivered else 0
    with open_writer(config.storage.database, lock_timeout=config.storage.lock_timeout) as con:
        with transaction(con):
            save_polls(con, quiet, config.fetch)
            save_host_blocks(con, polled.host_blocks)
            record_events(con, ctx.run_id, polled.events)
            finish_run(
                con,
                ctx.run_id,
                {
                    "finished_at": finished,
                    "status": "completed",
                    "feeds_total": len(config.feeds),
                    "feeds_ok": len(ok),
                    "feeds_failed": len(failed),
                    "feeds_skipped": skipped,
                    "entries_new": polled.new_entries,
                    "articles_stored": stored.articles,
                    "matches_stored": stored.matches,
                    "alerts_queued": stored.alerts_queued,
                    "alerts_sent": sent,
                    "alerts_failed": failed_alerts,
                    "errors": stored.errors + len(polled.events),
                    "fetch_s": polled.seconds,
                    "extract_s": stored.extract_seconds,
                    "match_s": stored.match_seconds,
                    "store_s": stored.store_seconds,
                    "deliver_s": deliver_seconds,
                },
            )
    return RunSummary(
        run_id=ctx.run_id,
        feeds_ok=ok,
        feeds_failed=failed,
        feeds_skipped=skipped,
        entries_new=polled.new_entries,
        articles_stored=stored.articles,
        matches_per_watch=stored.matches_per_watch,
        alerts_sent=sent,
        alerts_failed=failed_alerts,
        alerts_pending=(delivered.retrying + delivered.pending) if delivered else 0,
        deliveries=tuple(delivered.mails) if delivered else (),
        seconds=(finished - ctx.started_at).total_seconds(),
        alert_problems=(
            (delivered.problems + delivered.failures + delivered.retries) if delivered else ()
        ),
    )
