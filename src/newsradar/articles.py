"""From a feed entry, its page and its extraction to the :class:`Article` that is stored.

Pure: decides the text (page body, else the feed summary, with the reason), the dates (feed
first, then page metadata, then the URL) and the canonical URL; every shortfall leaves an event.
"""

from __future__ import annotations

from datetime import datetime

from newsradar.dates import choose_dates
from newsradar.errors import ExtractError, FetchError
from newsradar.extract import ExtractedPage
from newsradar.identity import KnownArticle, article_id, content_hash, preferred_url
from newsradar.models import Article, FeedEntry, FetchResult
from newsradar.store.writer import Event

__all__ = ["build_article", "worth_updating"]


def build_article(
    entry: FeedEntry,
    page: FetchResult | FetchError | None,
    extracted: ExtractedPage | ExtractError | None,
    now: datetime,
) -> tuple[Article, list[Event]]:
    events: list[Event] = []
    status, reason, text, source = "ok", None, "", "page"
    title, author, language, site = entry.title, entry.author, None, None
    canonical = entry.canonical_url
    page_dates: tuple[datetime | None, str | None, datetime | None, str | None] = (None,) * 4
    if isinstance(page, FetchError):
        status, reason = page.kind, str(page)
        events.append((now, "fetch", entry.url, page.kind, str(page)))
    elif isinstance(extracted, ExtractError):
        status, reason = extracted.kind, str(extracted)
        events.append((now, "extract", entry.url, extracted.kind, str(extracted)))
    elif page is not None and extracted is not None:
        # A consent wall or paywall has text, but not the article's: use the feed's.
        text = extracted.text if extracted.status == "ok" else ""
        if extracted.status != "ok":
            status, reason = extracted.status, extracted.reason
            events.append((now, "extract", entry.url, status, f"{status}: {reason}"))
        title = title or (extracted.title or "")
        author, language, site = author or extracted.author, extracted.language, extracted.site_name
        # Compared with the URL the page came from after redirects, which is what the
        # page can speak for (an open redirect elsewhere must not lend it the link's site).
        canonical = preferred_url(entry.url, extracted.canonical_url, page.final_url) or canonical
        page_dates = (
            extracted.published_at,
            extracted.published_source,
            extracted.updated_at,
            extracted.updated_source,
        )
    elif "shared_link" in entry.flags:
        status, reason = "partial_text", "every item of the feed has this link; using the summary"
    else:
        status, reason = "partial_text", "entry has no link"
    if not text.strip():
        text, source = entry.summary, "feed"
        if status == "ok":
            status, reason = "partial_text", "extraction found no body; using the feed summary"
            events.append((now, "extract", entry.url, "partial_text", reason))
    dates = choose_dates(entry.published_at, entry.updated_at, *page_dates, now=now)
    art_id = article_id(entry.feed_id, entry.guid)
    article = Article(
        id=art_id, feed_id=entry.feed_id, guid=entry.guid, url=entry.url,
        canonical_url=canonical, title=title, text=text, fetched_at=now,
        summary=entry.summary, author=author, language=language, site_name=site,
        published_at=dates.published_at, updated_at=dates.updated_at,
        date_source=dates.published_source,
        text_source=source, status=status, reason=reason, content_hash=content_hash(text),
        story_id=art_id, flags=entry.flags + dates.flags,
    )  # fmt: skip
    return article, events


def worth_updating(article: Article, before: KnownArticle) -> bool:
    """A re-fetched article replaces the stored one only if it is complete and different."""
    if article.status != "ok":  # a failed re-fetch must not overwrite a good body
        return False
    return (
        article.content_hash != before.content_hash
        or " ".join(article.title.split()) != " ".join(before.title.split())
        # Also when only the date moved: storing it stops the next poll re-fetching the page.
        or article.updated_at != before.updated_at
    )
