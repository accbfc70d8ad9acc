"""Article extraction: HTML bytes in, body text and metadata out (trafilatura).

Pure: no network, no database. The page is decoded here (BOM, then the HTTP charset, then a
``<meta>`` charset, then UTF-8, then a detector) so pages that declare their charset only in a
``<meta>`` tag come out right, parsed once, read for metadata (title, author, language, site,
canonical link, published and updated dates with their source), and handed to trafilatura for
the body. Pages with nothing usable (empty, consent wall, paywall, JS-only) and non-HTML
documents come back with ``status="partial_text"``/``"unsupported_content_type"`` and a reason,
so the caller falls back to the feed's title and summary.

    >>> page = extract_page(b"<html><body><article><p>...</p></article></body></html>")
    >>> page.status, page.reason
    ('partial_text', 'empty')
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import trafilatura
import trafilatura.utils
from lxml import etree
from lxml.html import (
    HtmlComment,
    HtmlElement,
    HtmlEntity,
    HTMLParser,
    HtmlProcessingInstruction,
)
from trafilatura.utils import load_html

from newsradar.dates import parse_date, plausible, url_date
from newsradar.magic import detect_encoding, is_binary

__all__ = ["ExtractedPage", "decode_html", "extract_page", "is_html"]

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)
# WHATWG: these labels mean windows-1252 in HTML, which is a superset (curly quotes, euro).
_LABEL_ALIASES = {"iso8859-1": "cp1252", "ascii": "cp1252"}
_NOT_HTML: tuple[str, ...] = ("application/pdf", "application/zip", "application/octet-stream")
_NOT_HTML += ("image/", "audio/", "video/", "font/", "application/x-", "application/gzip")
_NOT_HTML += ("application/vnd.", "application/msword")


def _plain_element_classes() -> None:
    """Give trafilatura's HTML parser lxml's C-level element class lookup.

    lxml.html's parser asks a Python callback for the class of every element it hands to
    Python, so that form controls get classes of their own. Neither trafilatura nor we use
    those classes, and over a page's hundreds of thousands of element visits the callback
    costs 4-6% of extraction. With the C lookup every element is an ``HtmlElement``, and the
    extracted text is the same (identical on the 181 AEB pages and trafilatura's 1,035
    evaluation pages). Another trafilatura without this parser keeps its own lookup.
    """
    parser = getattr(trafilatura.utils, "HTML_PARSER", None)
    if isinstance(parser, HTMLParser):
        parser.set_element_class_lookup(
            etree.ElementDefaultClassLookup(
                element=HtmlElement,
                comment=HtmlComment,
                pi=HtmlProcessingInstruction,
                entity=HtmlEntity,
            )
        )


_plain_element_classes()

# Short extractions that are really a consent wall, a paywall or a "turn on JavaScript" page.
_WALLS = (
    (
        "consent_wall",
        re.compile(
            r"\b(cookies?\b.{0,160}\b(consent|accept|agree|settings|preferences)"
            r"|(consent|accept|agree)\w*\b.{0,160}\bcookies?\b"
            r"|we value your privacy|before you continue|manage (your |my )?(choices|options)"
            r"|zustimm|einwillig|datenschutzeinstellungen|consentement|vie privée)",
            re.I | re.S,
        ),
    ),
    (
        "paywall",
        re.compile(
            r"\b(subscribe (now )?to (continue|read)|already a subscriber|for subscribers only"
            r"|sign in to (continue|read)|subscription required|jetzt abonnieren|abonnez-vous)",
            re.I,
        ),
    ),
    (
        "javascript_required",
        re.compile(
            r"\b(enable javascript|javascript is (disabled|required)|turn on javascript)", re.I
        ),
    ),
)
# Past this length an extraction is an article that merely mentions cookies or subscriptions.
_WALL_MAX_CHARS = 1500

_PUBLISHED_META = (
    "article:published_time og:published_time og:article:published_time pubdate publishdate"
    " publish-date publish_date date dc.date dc.date.issued dcterms.created dcterms.issued"
    " dcterms.date sailthru.date parsely-pub-date article.published published-date"
    " citation_publication_date originalpublicationdate article_date_original datepublished"
).split()
_UPDATED_META = (
    "article:modified_time og:updated_time og:article:modified_time last-modified"
    " dcterms.modified dc.date.modified article.updated datemodified modified-date"
).split()
_ARTICLE_TYPES = {"newsarticle", "article", "blogposting", "reportagenewsarticle", "report"}


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """What the page says about itself; ``status != "ok"`` means use the feed's text."""

    text: str
    title: str | None = None
    author: str | None = None
    # Published date as YYYY-MM-DD (kept for callers of the first version).
    date: str | None = None
    language: str | None = None
    site_name: str | None = None
    # ``<link rel=canonical>`` (else og:url), absolute; None when absent or not http(s).
    canonical_url: str | None = None
    # Plausible dates only (1990..now); the source is "page" (metadata) or "url".
    published_at: datetime | None = None
    published_source: str | None = None
    updated_at: datetime | None = None
    updated_source: str | None = None
    # "ok" | "partial_text" | "unsupported_content_type"
    status: str = "ok"
    # Why the text is not usable: "empty", "too_short", "consent_wall", "paywall", ...
    reason: str | None = None


def is_html(body: bytes, content_type: str | None = None) -> bool:
    """False for documents that are certainly not HTML (PDF, archives, images, octet-stream)."""
    media = (content_type or "").split(";")[0].strip().lower()
    if media and media.startswith(_NOT_HTML):
        return False
    return not is_binary(body)


def _bom(body: bytes) -> str | None:
    for bom, name in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return name
    return None


def _label(name: str) -> str | None:
    name = name.strip(" \"'").lower()
    try:
        canonical = codecs.lookup(name).name
    except LookupError:
        return None
    if canonical.startswith("utf-16") or canonical.startswith("utf-32"):
        # A page that was decodable enough to read its <meta> is not UTF-16 (HTML spec).
        return "utf-8"
    return _LABEL_ALIASES.get(canonical, canonical)


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode page bytes: BOM, HTTP charset, ``<meta>`` charset, UTF-8 (also with a few
    broken bytes), then a detector."""
    candidates: list[str] = []
    bom = _bom(body)
    if bom:
        candidates.append(bom)
    if content_type and "charset=" in content_type.lower():
        label = _label(content_type.lower().split("charset=", 1)[1].split(";")[0])
        if label:
            candidates.append(label)
    found = _META_CHARSET.search(body[:16384])
    if found:
        label = _label(found.group(1).decode("ascii", "replace"))
        if label:
            candidates.append(label)
    candidates.append("utf-8")
    for name in candidates:
        try:
            return body.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    # UTF-8 but for a stray byte (a cp1252 dash pasted in): read as UTF-8 with a replacement
    # character, as browsers do. The detector would re-read every letter in another
    # codepage ("SΟΦdbaden"). A page in a legacy codepage has few or no valid UTF-8
    # sequences, so most of its non-ASCII characters fail and it still goes on below.
    text = body.decode("utf-8", errors="replace")
    broken = text.count("\ufffd")
    if len(text) - len(text.encode("ascii", "ignore")) > 2 * broken:
        return text
    if len(body) >= 512:  # a detector needs some text to be better than a guess
        encoding = detect_encoding(body)
        if encoding:
            return body.decode(encoding, errors="replace")
    # Undeclared, not UTF-8: the web's most common legacy encoding decodes every byte.
    return body.decode("cp1252", errors="replace")


def _meta(tree: HtmlElement) -> dict[str, str]:
    """``<meta>`` name/property/itemprop (lower-cased) -> first non-empty content."""
    found: dict[str, str] = {}
    for el in tree.iter("meta"):
        key = el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv")
        value = el.get("content") or el.get("datetime")
        if key and value and value.strip():
            found.setdefault(key.strip().lower(), value.strip())
    return found


def _json_ld(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object on the page, ``@graph`` members included; bad JSON is skipped."""
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except (ValueError, RecursionError):  # bad JSON, or nested past the parser's stack
            continue
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                yield item
                if isinstance(item.get("@graph"), list):
                    stack.extend(item["@graph"])


def _article_ld(tree: HtmlElement) -> dict[str, Any]:
    """The page's article object from JSON-LD (an article type first, else any with dates)."""
    fallback: dict[str, Any] = {}
    for item in _json_ld(tree):
        types = item.get("@type")
        names = {
            t.lower() for t in (types if isinstance(types, list) else [types]) if isinstance(t, str)
        }
        if names & _ARTICLE_TYPES:
            return item
        if not fallback and ("datePublished" in item or "headline" in item):
            fallback = item
    return fallback


def _ld_text(value: Any) -> str | None:
    """A JSON-LD value as text: a string, or a list's first string; else None (pages put
    numbers, objects and lists where strings belong, and that must not cost the body)."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v), None)
    return value if isinstance(value, str) and value else None


def _name(value: Any) -> str | None:
    """A person/org name from a JSON-LD value (string, object or list of them)."""
    if isinstance(value, list):
        names = [n for n in (_name(v) for v in value) if n]
        return ", ".join(dict.fromkeys(names)) or None
    if isinstance(value, dict):
        value = value.get("name")
    if isinstance(value, str) and value.strip() and "://" not in value:
        return " ".join(value.split())[:200]
    return None


def _first_date(values: list[str | None], now: datetime) -> datetime | None:
    for value in values:
        dt = plausible(parse_date(value), now)
        if dt:
            return dt
    return None


def _time_element(tree: HtmlElement, now: datetime) -> datetime | None:
    for el in tree.iter("time"):
        if el.get("pubdate") is not None or el.get("itemprop", "").lower() == "datepublished":
            dt = plausible(parse_date(el.get("datetime")), now)
            if dt:
                return dt
    return None


def _canonical(tree: HtmlElement, meta: dict[str, str], base: str | None) -> str | None:
    hrefs: list[str | None] = [
        str(el.get("href") or "")
        for el in tree.iter("link")
        if "canonical" in (el.get("rel") or "").lower().split()
    ]
    for href in [*hrefs, meta.get("og:url")]:
        if not href or not href.strip():
            continue
        try:
            absolute: str = urljoin(base or "", href.strip())
        except ValueError:  # unparseable, e.g. an unclosed IPv6 bracket
            continue
        if absolute.lower().startswith(("http://", "https://")):
            return absolute
    return None


def _title(tree: HtmlElement, meta: dict[str, str], ld: dict[str, Any]) -> str | None:
    headline = ld.get("headline") if isinstance(ld.get("headline"), str) else None
    for value in (meta.get("og:title"), meta.get("twitter:title"), headline):
        if value and value.strip():
            return " ".join(value.split())
    title = tree.find(".//title")
    if title is not None and title.text_content().strip():
        return " ".join(title.text_content().split())
    h1 = tree.find(".//h1")
    return " ".join(h1.text_content().split()) or None if h1 is not None else None


def _language(tree: HtmlElement, meta: dict[str, str], ld: dict[str, Any]) -> str | None:
    ld_lang = ld.get("inLanguage") if isinstance(ld.get("inLanguage"), str) else None
    for value in (tree.get("lang"), meta.get("og:locale"), meta.get("content-language"), ld_lang):
        if value and re.match(r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]+)*$", value.strip()):
            return re.split(r"[_-]", value.strip())[0].lower()
    return None


def _wall(text: str) -> str | None:
    if len(text) > _WALL_MAX_CHARS:
        return None
    return next((reason for reason, pattern in _WALLS if pattern.search(text)), None)


def extract_page(
    html: bytes | str,
    url: str | None = None,
    *,
    content_type: str | None = None,
    min_chars: int = 200,
    now: datetime | None = None,
) -> ExtractedPage:
    """Extract body text and metadata from one page; never raises for bad markup.

    ``min_chars``: shorter bodies are flagged ``partial_text``/``too_short``.
    ``now``: the reference for rejecting future dates (default: the current time).
    """
    if isinstance(html, bytes):
        if not is_html(html, content_type):
            return ExtractedPage(text="", status="unsupported_content_type", reason=content_type)
        html = decode_html(html, content_type)
    now = now or datetime.now(UTC)
    # lxml refuses str input that still carries an XML encoding declaration.
    tree = load_html(_XML_DECL.sub("", html, count=1)) if html.strip() else None
    if tree is None:
        return ExtractedPage(text="", status="partial_text", reason="empty")
    meta = _meta(tree)
    ld = _article_ld(tree)
    published = _first_date(
        [_ld_text(ld.get("datePublished")), *(meta.get(k) for k in _PUBLISHED_META)], now
    ) or _time_element(tree, now)
    published_source = "page" if published else None
    if published is None:
        published = plausible(url_date(url), now)
        published_source = "url" if published else None
    updated = _first_date(
        [_ld_text(ld.get("dateModified")), *(meta.get(k) for k in _UPDATED_META)], now
    )
    if updated and published and updated < published:
        updated = None
    title = _title(tree, meta, ld)
    author = _name(ld.get("author")) or _name(
        meta.get("author") or meta.get("article:author") or meta.get("parsely-author")
    )
    site_name = meta.get("og:site_name") or _name(ld.get("publisher"))
    language = _language(tree, meta, ld)
    canonical = _canonical(tree, meta, url)

    data = trafilatura.bare_extraction(
        tree, url=url, include_comments=False, include_tables=True, with_metadata=False
    )
    text = (getattr(data, "text", None) or "").strip() if data is not None else ""
    status, reason = "ok", None
    wall = _wall(text)
    if not text:
        status, reason = "partial_text", "empty"
    elif wall:
        status, reason = "partial_text", wall
    elif len(text) < min_chars:
        status, reason = "partial_text", "too_short"
    return ExtractedPage(
        text=text,
        title=title,
        author=author,
        date=published.date().isoformat() if published else None,
        language=language,
        site_name=" ".join(site_name.split()) if site_name else None,
        canonical_url=canonical,
        published_at=published,
        published_source=published_source,
        updated_at=updated,
        updated_source="page" if updated else None,
        status=status,
        reason=reason,
    )
