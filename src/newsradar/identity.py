"""Identity of entries and articles: canonical URLs, content hashes, new/update/seen.

Pure functions; the store supplies the keys it holds (``store.stories.known_articles``).

An entry is the article we already hold when its guid (in the same feed), its canonical URL,
or its content hash (when the caller knows it) matches one; then it is ``"seen"``, or an
``"update"`` when its headline or text changed. Otherwise it is ``"new"``. In feeds whose
items all share one ``<link>`` (skx/rss2email#111) the URL says nothing, so only guid and
content count there. The pipeline classifies entries before their pages are fetched, so it
has no body hash then; exact copies found after extraction join their story instead
(:func:`copy_key`, ``dedup.StoryIndex``).

    >>> canonical_url("HTTP://www.Example.com:80/a/?utm_source=x&b=2&a=1#top")
    'https://example.com/a?a=1&b=2'
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from tld import get_fld
from tld.utils import MozillaTLDSourceParser

__all__ = [
    "EMPTY_HASH",
    "EntryKeys",
    "KnownArticle",
    "KnownKeys",
    "Verdict",
    "article_id",
    "canonical_url",
    "classify_entry",
    "content_hash",
    "copy_key",
    "preferred_url",
    "same_site",
    "stable_id",
    "unwrap_url",
]

_TRACKING = re.compile(
    r"^(utm_.*|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|twclid|mc_cid|mc_eid|igshid"
    r"|ref_src|ref_url|_ga|_gl|_hsenc|_hsmi|mkt_tok|oly_enc_id|oly_anon_id|vero_id|wt_mc"
    r"|wt\.mc_id|cmpid|ocid|sr_share|xtor|ns_mchannel|ns_source|ns_campaign|ns_linkname"
    r"|ns_fee|at_medium|at_campaign|at_custom\d*|smid|smtyp|spm|__twitter_impression)$",
    re.I,
)
# Redirect wrappers whose target is a query parameter: host suffix, path prefix, parameters.
_QUERY_WRAPPERS = (
    ("google.com", "/url", ("url", "q")),
    ("news.google.com", "/news/url", ("url", "q")),
    ("bing.com", "/news/apiclick.aspx", ("url",)),
    ("l.facebook.com", "/l.php", ("u",)),
    ("lm.facebook.com", "/l.php", ("u",)),
    ("out.reddit.com", "/", ("url",)),
)


class _OfflineSuffixes(MozillaTLDSourceParser):
    """tld's bundled public suffix list; if it is missing, no domains rather than a download."""

    uid = "newsradar_offline"

    @classmethod
    def update_tld_names(cls, fail_silently: bool = False) -> bool:
        return False


_GOOGLE_NEWS_ARTICLE = re.compile(r"^/(?:__i/rss/rd/|rss/)?articles/([A-Za-z0-9_-]+)")


def _google_news_target(token: str) -> str | None:
    """The URL inside a Google News article token (a base64url protobuf), when it is there.

    Older tokens carry the URL (field 4, length-prefixed); newer ones are opaque ids that only
    Google can resolve, and stay as they are.
    """
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except ValueError:
        return None
    start = data.find(b"http")
    if start < 2:
        return None
    length = data[start - 1]
    if data[start - 2] & 0x80:  # two-byte varint length
        length = (data[start - 2] & 0x7F) | (data[start - 1] << 7)
    raw = data[start : start + length] if length else data[start:]
    try:
        url = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return url if re.match(r"^https?://[^\s/]+", url) and " " not in url else None


def unwrap_url(url: str) -> str:
    """Follow known redirect wrappers (Google News, google.com/url, Bing, Facebook) offline."""
    for _ in range(3):  # wrappers can nest
        try:
            parts = urlsplit(url.strip())
        except ValueError:  # e.g. an unclosed IPv6 bracket: nothing to unwrap
            return url
        host = (parts.hostname or "").lower()
        target = None
        if host == "news.google.com":
            found = _GOOGLE_NEWS_ARTICLE.match(parts.path)
            if found:
                target = _google_news_target(found.group(1))
        if target is None:
            params = dict(parse_qsl(parts.query))
            for suffix, path, names in _QUERY_WRAPPERS:
                if (host == suffix or host.endswith("." + suffix)) and parts.path.startswith(path):
                    target = next((params[n] for n in names if params.get(n)), None)
                    break
        if not target or not re.match(r"^https?://", target, re.I):
            return url
        url = target
    return url


def canonical_url(url: str) -> str:
    """One form per article: unwrapped, https, no www., default port, fragment or tracking.

    Query parameters are sorted and a trailing slash is dropped, so the variants a feed, a
    page's canonical link and a share button produce compare equal. A URL that cannot be
    parsed (an unclosed IPv6 bracket) has no canonical form: "".
    """
    url = unwrap_url(url.strip())
    if not url:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    host = (parts.hostname or "").lower().rstrip(".").removeprefix("www.")
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    query = urlencode(
        sorted(
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not _TRACKING.match(k)
        )
    )
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    # http and https variants of a page are one article.
    return urlunsplit(("https", netloc, path, query, ""))


def _site(url: str) -> tuple[str, str, int | None] | None:
    """Who answers for a URL: (host, registrable domain or "", port); None if unparseable.

    The host is lower-cased without ``www.`` or a trailing dot; default ports count as none,
    since http and https variants of a page are one article. The scheme does not count.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower().rstrip(".").removeprefix("www.")
    if not host:
        return None
    # The bundled public suffix list (tld, which trafilatura's courlan already needs), with
    # its private part, so alice.github.io and bob.github.io are two sites; never refreshed
    # over the network. IP addresses and unlisted suffixes have none: the host decides.
    domain = get_fld(host, fail_silently=True, fix_protocol=True, parser_class=_OfflineSuffixes)
    return host, domain or "", None if port in (80, 443) else port


def same_site(page_url: str, url: str) -> bool:
    """Whether the site that served ``page_url`` answers for ``url`` too.

    Same host (ignoring case, ``www.`` and the scheme) or the same registrable domain
    (``amp.ex.org`` and ``ex.org``), and the same port. A page can vouch for its own site's
    URLs only: anything else it says about another site is a claim that site never made.
    """
    page, other = _site(page_url), _site(url)
    if page is None or other is None or page[2] != other[2]:
        return False
    return page[0] == other[0] or (page[1] != "" and page[1] == other[1])


def preferred_url(entry_url: str, page_canonical: str | None, page_url: str | None = None) -> str:
    """The canonical URL of an article: the page's ``rel=canonical`` unless it is implausible.

    ``page_url`` is where the page was served from after redirects (the entry's link when
    not given). A canonical on another site is ignored: the URL is an identity key, and a page
    on site A claiming B's article would make B's own item look already seen, so B's text
    would never be fetched or matched. Copies across sites join one story by their text
    instead (``dedup``). A canonical pointing at a site's home page (a common CMS mistake) or
    at something that is not http(s) is ignored too. Ignored, the entry's own link is kept.
    """
    own = canonical_url(entry_url) if entry_url else ""
    if not page_canonical or not re.match(r"^https?://[^\s/]+", page_canonical.strip(), re.I):
        return own
    theirs = canonical_url(page_canonical)
    # Judged after unwrapping (a google.com/url wrapper stands for its target), since that is
    # the URL that would be stored.
    if not theirs or not same_site(page_url or entry_url, theirs):
        return own
    their_path = urlsplit(theirs).path
    own_path = urlsplit(own).path if own else "/"
    if their_path in ("", "/") and own_path not in ("", "/"):
        return own
    return theirs


def _normal_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def content_hash(text: str) -> str:
    """Hash of the text with case, accents-preserving NFKC and whitespace normalised."""
    return hashlib.sha256(_normal_text(text).encode("utf-8")).hexdigest()


# Every empty body hashes alike; an empty hash identifies nothing.
EMPTY_HASH = content_hash("")


def copy_key(title: str, body_hash: str) -> str | None:
    """What exact copies of one item share: the headline and the body, normalised.

    The body alone is not enough: feeds repeat one boilerplate summary ("Read the full story
    on our website") under every headline, and those items are not one story. None for an
    empty body, which identifies nothing.
    """
    if not body_hash or body_hash == EMPTY_HASH:
        return None
    return stable_id("copy", _normal_text(title), body_hash)


def stable_id(*parts: str) -> str:
    """A short deterministic id from its parts (the same inputs give the same id)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:20]


def article_id(feed_id: str, guid: str) -> str:
    """The id of the article an entry becomes."""
    return stable_id("article", feed_id, guid)


@dataclass(frozen=True, slots=True)
class EntryKeys:
    """What identifies an incoming entry (``content_hash`` once its text is known)."""

    feed_id: str
    guid: str
    canonical_url: str
    title: str
    content_hash: str | None = None
    # The feed's "updated" time for the item; a later one than stored means it was edited.
    updated_at: datetime | None = None
    # The link as published (the store looks stored articles up by it too).
    url: str = ""


@dataclass(frozen=True, slots=True)
class KnownArticle:
    """The identity keys of an article the database holds."""

    article_id: str
    feed_id: str
    guid: str
    canonical_url: str
    title: str
    content_hash: str
    story_id: str = ""
    updated_at: datetime | None = None
    # The stored status: one of RETRY_STATUSES means the page is to be fetched again.
    status: str = "ok"
    # The link as published; its canonical form identifies the article too, since the stored
    # canonical URL may be the page's rel=canonical rather than the feed's link.
    url: str = ""


# Stored with the feed's text because the page failed for a while (the site was down, slow,
# rate-limiting, its robots.txt unreadable): seen again in its feed, the page is re-fetched.
RETRY_STATUSES = frozenset(
    {"dns", "connect", "timeout", "deadline_exceeded", "http_5xx", "rate_limited",
     "protocol_error", "robots_unavailable"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Verdict:
    kind: Literal["new", "update", "seen"]
    # The stored article for "update"/"seen"; the id the entry becomes for "new".
    article_id: str
    # Which key matched: "guid", "url", "content"; None for a new entry.
    matched_on: str | None = None
    # For an update: "title", "text", "updated_at" (the feed says it was edited) and/or
    # "page" (the stored text is the feed's because the page failed for a while).
    changes: tuple[str, ...] = ()
    # The stored article's story, for "update"/"seen".
    story_id: str = ""


@dataclass
class KnownKeys:
    """Stored articles indexed by each identity key (built from the store's answer)."""

    by_guid: dict[tuple[str, str], KnownArticle] = field(default_factory=dict)
    by_url: dict[str, list[KnownArticle]] = field(default_factory=lambda: defaultdict(list))
    by_hash: dict[str, KnownArticle] = field(default_factory=dict)

    @classmethod
    def of(cls, articles: Iterable[KnownArticle]) -> KnownKeys:
        keys = cls()
        for a in articles:
            keys.add(a)
        return keys

    def link_shared(self, entry: EntryKeys) -> bool:
        """True when two stored guids of the entry's feed have its URL (one link for all)."""
        same_url = self.by_url.get(entry.canonical_url, []) if entry.canonical_url else []
        return len({a.guid for a in same_url if a.feed_id == entry.feed_id}) > 1

    def add(self, a: KnownArticle) -> None:
        """Remember an article (also one stored earlier in the same pass)."""
        self.by_guid.setdefault((a.feed_id, a.guid), a)
        urls = {a.canonical_url, canonical_url(a.url) if a.url else ""} - {""}
        for url in sorted(urls):
            self.by_url[url].append(a)
        if a.content_hash and a.content_hash != EMPTY_HASH:
            self.by_hash.setdefault(a.content_hash, a)


def _changes(entry: EntryKeys, known: KnownArticle) -> tuple[str, ...]:
    """What changed between the feed's item and the article stored from that same item."""
    changed: list[str] = []
    # An entry without a title was stored under the page's title: nothing to compare.
    if entry.title and _normal_text(entry.title) != _normal_text(known.title):
        changed.append("title")
    if (
        entry.content_hash
        and entry.content_hash != EMPTY_HASH
        and entry.content_hash != known.content_hash
    ):
        changed.append("text")
    if entry.updated_at and known.updated_at and entry.updated_at > known.updated_at:
        changed.append("updated_at")
    if known.status in RETRY_STATUSES:
        changed.append("page")
    return tuple(changed)


def _verdict(entry: EntryKeys, known: KnownArticle, on: str, *, own_item: bool) -> Verdict:
    # Another feed's entry linking the page (own_item False) is seen, never an update: its
    # headline, summary and dates are its own and would be written over the stored item's.
    changed = _changes(entry, known) if own_item else ()
    kind: Literal["update", "seen"] = "update" if changed else "seen"
    return Verdict(kind, known.article_id, on, changed, known.story_id)


def classify_entry(entry: EntryKeys, known: KnownKeys, *, shared_link: bool = False) -> Verdict:
    """New, an update of a stored article (headline or text edited), or already seen.

    ``shared_link``: the entry's feed gives this URL to several items (the feed parser flags
    them ``shared_link``), so the URL is not an identity there.
    """
    by_guid = known.by_guid.get((entry.feed_id, entry.guid))
    if by_guid is not None:
        return _verdict(entry, by_guid, "guid", own_item=True)
    same_url = known.by_url.get(entry.canonical_url, []) if entry.canonical_url else []
    if same_url and not (shared_link or known.link_shared(entry)):
        # Same feed first: a re-issued guid with an edited headline is the same article.
        for a in sorted(same_url, key=lambda a: a.feed_id != entry.feed_id):
            return _verdict(entry, a, "url", own_item=a.feed_id == entry.feed_id)
    if entry.content_hash and entry.content_hash != EMPTY_HASH:
        by_hash = known.by_hash.get(entry.content_hash)
        if by_hash is not None:
            return Verdict("seen", by_hash.article_id, "content", (), by_hash.story_id)
    return Verdict("new", article_id(entry.feed_id, entry.guid))
