"""Parse feed documents into entries with a stable identity. Bytes in, dataclasses out.

    parsed = parse_feed("dw-asia", result.body, headers=result.headers,
                        base_url=result.final_url, max_entries=cfg.fetch.max_entries_per_feed)

feedparser only ever sees bytes (wrapped in a file object: given a plain string or bytes it
may open a URL or a local path) plus the response headers, and it runs in a worker process
that is killed at the per-feed time limit: feedparser has no timeout of its own and some
inputs (a pathological author field) keep its regexes busy for seconds.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import re
import signal
import threading
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from time import struct_time
from typing import Any
from urllib.parse import urljoin

import feedparser

from newsradar import forkserver
from newsradar.dates import EARLIEST, FUTURE_SKEW
from newsradar.errors import ParseError, ParseTimeoutError
from newsradar.identity import canonical_url, stable_id
from newsradar.jsonfeed import JsonFeedError, is_json_feed, parse_json_feed
from newsradar.magic import detect_encoding
from newsradar.models import FeedEntry, ParsedFeed

__all__ = ["DEFAULT_TIME_LIMIT", "html_to_text", "parse_feed", "shutdown_parser", "start_parser"]

DEFAULT_TIME_LIMIT = 10.0
# Address-space cap of a parser worker: a hostile feed ends in MemoryError, not in the OOM killer.
WORKER_MEMORY = 1 << 30
MAX_TITLE = 1_000
MAX_SUMMARY = 20_000

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_SPACES = re.compile(r"\s+")
# Numeric character references (in any ASCII-compatible encoding).
_CHARREF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")


class _TextExtractor(HTMLParser):
    _SKIP = frozenset({"script", "style", "template", "noscript"})
    _BREAKS = frozenset({"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self.skipping += 1
        elif tag in self._BREAKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def _clean(text: str, limit: int) -> str:
    """Valid Unicode, no control characters, whitespace collapsed, length capped."""
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates -> '?'
    return _SPACES.sub(" ", _CONTROL.sub("", text)).strip()[:limit]


def html_to_text(markup: str, limit: int = MAX_SUMMARY) -> str:
    """Plain text of an HTML fragment (scripts and styles dropped, entities decoded)."""
    if "<" not in markup and "&" not in markup:
        return _clean(markup, limit)
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return _clean("".join(parser.parts), limit)


def _repair_charrefs(body: bytes, warnings: list[str]) -> bytes:
    """Replace references to no character (a surrogate, past U+10FFFF) with U+FFFD.

    feedparser calls chr() on them and raises, which would lose every entry of the feed.
    """

    def fix(found: re.Match[bytes]) -> bytes:
        hexa, dec = found.groups()
        code = int(hexa, 16) if hexa else int(dec)
        return b"&#xFFFD;" if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF else found.group()

    if b"&#" not in body:
        return body
    repaired = _CHARREF.sub(fix, body)
    if repaired != body:
        warnings.append("character references to no character replaced by U+FFFD")
    return repaired


_XML_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=", re.I)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def _guess_charset(body: bytes, headers: dict[str, str], warnings: list[str]) -> dict[str, str]:
    """Headers naming the body's charset when nothing declares it and it is not UTF-8.

    Without a BOM, an XML encoding or an HTTP charset, feedparser tries UTF-8 and then reads
    windows-1252, which turns EUC-JP, KOI8-R or windows-1251 into mojibake; a detector does
    better (the same one that reads undeclared pages).
    """
    ctype = headers.get("content-type", "")
    if "charset" in ctype.lower() or body.startswith(_BOMS) or _XML_ENCODING.match(body[:1024]):
        return headers
    try:
        body.decode("utf-8")
        return headers
    except UnicodeDecodeError:
        pass
    encoding = detect_encoding(body)
    if encoding is None:
        return headers
    warnings.append(f"no declared encoding and not UTF-8: read as {encoding}")
    return {**headers, "content-type": f"{ctype or 'application/xml'}; charset={encoding}"}


def _date(value: struct_time | None, now: datetime, flags: list[str], name: str) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        flags.append(f"{name}_invalid")
        return None
    # The same bounds as a page's dates (newsradar.dates): placeholders like 1970 are dropped,
    # a date in the future beyond any time zone is clamped to now.
    if when > now + FUTURE_SKEW:
        flags.append(f"{name}_clamped")
        return now
    if when < EARLIEST:
        flags.append(f"{name}_implausible")
        return None
    return when


def _title(element: Mapping[str, Any]) -> str:
    title = _clean(str(element.get("title") or ""), MAX_TITLE)
    # Atom titles may be markup: type="html" (text/html) or type="xhtml".
    if element.get("title_detail", {}).get("type") in ("text/html", "application/xhtml+xml"):
        title = html_to_text(title, MAX_TITLE)
    return title


def _link(entry: Mapping[str, Any], base_url: str, flags: list[str]) -> tuple[str, str]:
    """The item's absolute http(s) link and its canonical form; ("", "") for none."""
    link = _clean(str(entry.get("link") or ""), 4_000)
    try:
        link = urljoin(base_url, link) if link and base_url else link
        canonical = canonical_url(link) if link else ""
    except ValueError:  # unparseable, e.g. an unclosed IPv6 bracket
        canonical = ""
    if link and (not canonical or not re.match(r"^https?://", link, re.I)):
        flags.append("unsafe_link")  # javascript:, data:, file: ... never fetched
        return "", ""
    return link, canonical


def _entry(feed_id: str, raw: dict[str, Any], base_url: str, now: datetime) -> FeedEntry:
    flags: list[str] = []
    title = _title(raw)
    summary_html = str(raw.get("summary") or "")
    if not summary_html and raw.get("content"):
        summary_html = str(raw["content"][0].get("value") or "")
    link, canonical = _link(raw, base_url, flags)
    guid = _clean(str(raw.get("id") or ""), 2_000)
    summary = html_to_text(summary_html)
    if not guid:
        basis = (link, title) if link or title else (summary,)
        guid = "urn:newsradar:" + stable_id("entry", *basis)
        flags.append("guid_synthesized")
    author = _clean(str(raw.get("author") or ""), 200) or None
    return FeedEntry(
        feed_id=feed_id,
        guid=guid,
        url=link,
        canonical_url=canonical,
        title=title,
        summary=summary,
        author=author,
        # dict.get: feedparser's own .get maps updated<->published with a DeprecationWarning.
        published_at=_date(dict.get(raw, "published_parsed"), now, flags, "published"),
        updated_at=_date(dict.get(raw, "updated_parsed"), now, flags, "updated"),
        flags=tuple(flags),
    )


def _dedupe(entries: list[FeedEntry], warnings: list[str]) -> list[FeedEntry]:
    """A guid repeated in one feed: identical items collapse (with a warning), different
    items keep the guid plus a suffix so neither is lost."""
    seen: dict[str, FeedEntry] = {}
    out: list[FeedEntry] = []
    for entry in entries:
        first = seen.get(entry.guid)
        if first is None:
            seen[entry.guid] = entry
            out.append(entry)
            continue
        if (first.url, first.title, first.summary) == (entry.url, entry.title, entry.summary):
            warnings.append(f"entry {entry.guid!r} appears twice; kept one")
            continue
        guid = f"{entry.guid}#{stable_id(entry.url, entry.title, entry.summary)[:12]}"
        fixed = replace(entry, guid=guid, flags=(*entry.flags, "guid_repeated"))
        seen[guid] = fixed
        out.append(fixed)
    links: dict[str, int] = {}
    for entry in out:
        links[entry.canonical_url] = links.get(entry.canonical_url, 0) + 1
    # Items sharing one <link> (all of them: skx/rss2email#111; or a few, on a live page): the
    # URL is no identity there, and the page is no single item's article.
    return [
        replace(e, flags=(*e.flags, "shared_link"))
        if e.canonical_url and links[e.canonical_url] > 1
        else e
        for e in out
    ]


def _date_warnings(entries: list[FeedEntry]) -> list[str]:
    """One line per kind of impossible date, so the feed's events say what was changed."""
    problems = (
        ("_clamped", "dated in the future: clamped to now"),
        ("_implausible", f"dated before {EARLIEST:%Y}: date dropped"),
        ("_invalid", "with an invalid date: date dropped"),
    )
    out = []
    for suffix, what in problems:
        count = sum(any(f.endswith(suffix) for f in e.flags) for e in entries)
        if count:
            out.append(f"{count} {'entry' if count == 1 else 'entries'} {what}")
    return out


def _parse_here(
    feed_id: str,
    body: bytes,
    headers: Mapping[str, str],
    base_url: str,
    max_entries: int,
    now: datetime,
) -> ParsedFeed:
    # No Content-Location: feedparser would resolve guids against it, and a guid must not
    # change when the feed moves. Links are resolved against the feed URL in _link().
    response_headers = {k.lower(): v for k, v in headers.items() if k.lower() != "content-location"}
    warnings: list[str] = []
    body = _repair_charrefs(body, warnings)
    response_headers = _guess_charset(body, response_headers, warnings)
    try:
        if is_json_feed(body):  # feedparser 6.0 reads XML only
            doc = parse_json_feed(body)
        else:
            doc = feedparser.parse(
                io.BytesIO(body), response_headers=response_headers, sanitize_html=True
            )
    except (MemoryError, RecursionError):
        raise
    except JsonFeedError as exc:
        raise ParseError(f"feed '{feed_id}' ({base_url}) is not a valid JSON Feed: {exc}") from None
    except Exception as exc:  # a feedparser bug on hostile input must not end the pass
        raise ParseError(
            f"feed '{feed_id}' ({base_url}) broke the parser ({type(exc).__name__}: {exc})"
        ) from None
    problem = doc.get("bozo_exception")
    if problem is not None:
        name = type(problem).__name__
        if name == "CharacterEncodingOverride":
            warnings.append(f"encoding override: {problem}")
        else:
            warnings.append(f"malformed feed ({name}: {_clean(str(problem), 300)})")
    if not doc.entries and not doc.get("version") and not doc.feed.get("title"):
        raise ParseError(
            f"feed '{feed_id}' ({base_url}) has no RSS, Atom or JSON Feed content"
            + (f": {_clean(str(problem), 300)}" if problem is not None else "")
        )
    raw_entries = list(doc.entries)
    if len(raw_entries) > max_entries:
        warnings.append(
            f"{len(raw_entries)} entries; kept the first {max_entries} (max_entries_per_feed)"
        )
        raw_entries = raw_entries[:max_entries]
    entries = _dedupe([_entry(feed_id, raw, base_url, now) for raw in raw_entries], warnings)
    warnings.extend(_date_warnings(entries))
    title = _title(doc.feed) or None
    return ParsedFeed(title=title, entries=tuple(entries), warnings=tuple(warnings))


def _start_worker() -> None:
    # The pass owns Ctrl-C (the terminal sends it to the whole group, workers included, and
    # they are up from the start of 'newsradar run'): an interrupted worker prints only noise.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    forkserver.die_with_pass()  # never outlive a pass killed by SIGKILL
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY, WORKER_MEMORY))
    except (ImportError, ValueError, OSError):  # not on this platform: the time limit remains
        pass


def _ready() -> bool:
    return True


class _Workers:
    """A lazily started process pool that is killed and replaced when a parse runs over."""

    size = 2

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        # Held while a parse runs, so a queued feed never spends its time limit waiting.
        self.slots = threading.BoundedSemaphore(self.size)

    def get(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                # Forked from the pass's forkserver, which has imported feedparser and this
                # module: a worker costs a fork, and never re-imports the caller's __main__.
                self._pool = ProcessPoolExecutor(
                    max_workers=self.size,
                    mp_context=forkserver.context(),
                    initializer=_start_worker,
                )
                # Start the workers before any time limit runs (submit starts them).
                with forkserver.main_module_hidden():
                    started = [self._pool.submit(_ready) for _ in range(self.size)]
                for ready in started:
                    ready.result(timeout=120)
            return self._pool

    def submit(self, pool: ProcessPoolExecutor, *args: Any) -> Future[ParsedFeed]:
        """Parse in ``pool``. The pool starts a worker per submit while none is idle, so a
        first worker quick to answer leaves ``get`` with one worker (seen on a loaded
        machine), and a submit starts the other later: it must hide ``__main__`` as well."""
        started = getattr(pool, "_processes", None)  # None once shut down: submit raises
        if started is not None and len(started) < self.size:
            with forkserver.main_module_hidden():
                return pool.submit(_parse_here, *args)
        return pool.submit(_parse_here, *args)

    def kill(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        for process in list(getattr(pool, "_processes", {}).values()):
            process.kill()
        pool.shutdown(wait=True, cancel_futures=True)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


_WORKERS = _Workers()
atexit.register(_WORKERS.shutdown)


def start_parser() -> None:
    """Start the parser's worker processes in the background (with the forkserver, if it is
    not running yet), so that the first feed to parse does not wait for them. An error here is
    left for that parse to report."""

    def run() -> None:
        with contextlib.suppress(Exception):
            _WORKERS.get()

    threading.Thread(target=run, name="newsradar-parser-start", daemon=True).start()


def shutdown_parser() -> None:
    """Stop the parser worker processes (they restart on the next parse)."""
    _WORKERS.shutdown()


def parse_feed(
    feed_id: str,
    body: bytes,
    *,
    headers: Mapping[str, str],
    base_url: str,
    max_entries: int,
    now: datetime | None = None,
    time_limit: float | None = DEFAULT_TIME_LIMIT,
) -> ParsedFeed:
    """Parse one feed document. Raises :class:`ParseError` when nothing usable is in it and
    :class:`ParseTimeoutError` (``parse_timeout``) past ``time_limit`` seconds.
    ``time_limit=None`` parses in this process, without a limit (trusted input only)."""
    now = now or datetime.now(UTC)
    args = (feed_id, body, dict(headers), base_url, max_entries, now)
    if time_limit is None:
        return _parse_here(*args)
    for attempt in (1, 2):
        pool = _WORKERS.get()
        try:
            with _WORKERS.slots:
                return _WORKERS.submit(pool, *args).result(timeout=time_limit)
        except FutureTimeout:
            _WORKERS.kill(pool)
            raise ParseTimeoutError(
                f"feed '{feed_id}' ({base_url}) took more than {time_limit:g} s to parse; "
                "skipped this time"
            ) from None
        except BrokenProcessPool:
            # Killed under us (another feed's timeout) or out of memory: retry once, fresh.
            _WORKERS.kill(pool)
            if attempt == 2:
                raise ParseError(
                    f"feed '{feed_id}' ({base_url}) crashed the parser (too big or too deep?)"
                ) from None
        except (MemoryError, RecursionError):
            raise ParseError(f"feed '{feed_id}' ({base_url}) is too big or too deep") from None
    raise AssertionError("unreachable")
