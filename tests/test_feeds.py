"""Parsing feeds (RELIABILITY B16-B22): bytes in, entries with stable identity out."""

from __future__ import annotations

import multiprocessing.forkserver
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

import newsradar.feeds as feeds
from newsradar.errors import ParseError, ParseTimeoutError
from newsradar.feeds import html_to_text, parse_feed
from newsradar.models import ParsedFeed
from tests.loopback import LoopbackHTTPServer
from tests.processes import all_gone, run_as_main

NOW = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
RSS_HEADERS = {"content-type": "application/rss+xml; charset=utf-8"}


def rss(items: str, *, head: str = '<?xml version="1.0" encoding="utf-8"?>') -> bytes:
    return f'{head}<rss version="2.0"><channel><title>T</title>{items}</channel></rss>'.encode()


def parse(body: bytes, headers: dict[str, str] | None = None, **kw: object) -> ParsedFeed:
    options: dict[str, object] = {"max_entries": 500, "now": NOW, "time_limit": None, **kw}
    return parse_feed(
        "f",
        body,
        headers=RSS_HEADERS if headers is None else headers,
        base_url="https://example.org/feed.xml",
        **options,  # type: ignore[arg-type]
    )


LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10)
        for n in range(1, 10)
    )
    + b']>\n<rss version="2.0"><channel><title>&lol9;</title>'
    b"<item><guid>1</guid><title>laughs &lol9;</title></item></channel></rss>"
)


def test_billion_laughs_is_not_expanded() -> None:
    parsed = parse(LAUGHS, time_limit=5.0)
    assert len(parsed.entries) == 1
    assert len(parsed.entries[0].title) < 100
    assert parsed.warnings  # flagged


def test_external_entities_are_never_resolved(
    tmp_path: Path, http_server: LoopbackHTTPServer
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY f SYSTEM "file://{secret}">'
        f'<!ENTITY h SYSTEM "{http_server.url("/xxe")}">]>'
        '<rss version="2.0"><channel><title>&f;&h;</title><item><guid>1</guid>'
        "<title>a &f; b &h;</title><description>&f;&h;</description></item></channel></rss>"
    ).encode()
    parsed = parse(body, time_limit=5.0)
    everything = repr(parsed)
    assert "TOP-SECRET" not in everything
    assert http_server.connections == 0
    # Bytes that happen to be a path are data, never a file to open.
    with pytest.raises(ParseError):
        parse(str(secret).encode())


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        (rss("<item><guid>1</guid><title>ok</title></item><item><guid>2</guid><title>un"), 1),
        (rss("<item><guid>1</guid><title>a\x01b\x0c</title></item>"), 1),
        (rss("<item><guid>1</guid><title>ok</title></item><item><title>open <b>tag</item>"), 2),
    ],
)
def test_malformed_feeds_keep_their_valid_entries(body: bytes, kept: int) -> None:
    parsed = parse(body)
    assert len(parsed.entries) >= kept
    assert parsed.entries[0].title.startswith(("ok", "ab"))
    assert all("\x01" not in e.title for e in parsed.entries)


def test_documents_without_a_feed_are_a_parse_error() -> None:
    with pytest.raises(ParseError) as info:
        parse(b"<html><body>hello</body></html>")
    assert info.value.kind == "parse_error"
    assert "'f'" in str(info.value)


CAFE = "Caf\u00e9 \u201cquoted\u201d"


@pytest.mark.parametrize(
    ("body", "headers", "expected", "override"),
    [
        (
            rss(f"<item><guid>1</guid><title>{CAFE}</title></item>").replace(
                CAFE.encode(), CAFE.encode("cp1252")
            ),
            RSS_HEADERS,
            CAFE,
            True,
        ),
        (
            rss(
                "<item><guid>1</guid><title>\u0391\u03b8\u03ae\u03bd\u03b1</title></item>",
                head='<?xml version="1.0" encoding="iso-8859-7"?>',
            )
            .decode()
            .encode("iso-8859-7"),
            {"content-type": "application/rss+xml"},
            "\u0391\u03b8\u03ae\u03bd\u03b1",
            False,
        ),
        (rss("<item><guid>1</guid><title>plain</title></item>", head=""), {}, "plain", False),
        (
            b"\xff\xfe"
            + rss(
                "<item><guid>1</guid><title>\u0416\u0443\u043a</title></item>",
                head='<?xml version="1.0" encoding="utf-16"?>',
            )
            .decode()
            .encode("utf-16-le"),
            {"content-type": "application/xml"},
            "\u0416\u0443\u043a",
            False,
        ),
        (
            rss(
                "<item><guid>1</guid><title>bad \xff\xfe bytes</title></item>".replace(
                    "\xff\xfe", "@@"
                )
            ).replace(b"@@", b"\xff\xfe"),
            RSS_HEADERS,
            "bad",
            True,
        ),
    ],
)
def test_encodings_give_valid_readable_text(
    body: bytes, headers: dict[str, str], expected: str, override: bool
) -> None:
    parsed = parse(body, headers)
    title = parsed.entries[0].title
    assert title.startswith(expected)
    title.encode("utf-8")  # valid Unicode: no lone surrogates
    if override:
        assert parsed.warnings  # an encoding problem is a warning, not a failed feed


def test_pathological_author_is_cut_off_by_the_time_limit() -> None:
    author = "a@" + "a." * 16000 + "!"
    body = rss(f"<item><guid>1</guid><title>t</title><author>{author}</author></item>")
    killed = list(feeds._WORKERS.get()._processes)
    with pytest.raises(ParseTimeoutError) as info:
        parse(body, time_limit=0.5)
    assert info.value.kind == "parse_timeout"
    # The worker was replaced: the next feed parses normally under a limit.
    assert parse(rss("<item><guid>1</guid><title>next</title></item>"), time_limit=10.0).entries
    assert all_gone(killed, timeout=10)
    # The new workers fork from the same server, which has feedparser imported already.
    server = multiprocessing.forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    for pid in feeds._WORKERS.get()._processes:
        assert Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(server)


def test_identity_is_stable_and_nothing_is_silently_dropped() -> None:
    body = rss(
        "<item><title>no guid</title><link>https://example.org/a?utm_source=x</link></item>"
        "<item><title>no link</title><description>text</description></item>"
        "<item><guid>dup</guid><title>first</title><link>https://example.org/1</link></item>"
        "<item><guid>dup</guid><title>second</title><link>https://example.org/2</link></item>"
        "<item><guid>same</guid><title>x</title></item><item><guid>same</guid><title>x</title></item>"
    )
    one, two = parse(body), parse(body)
    assert [e.guid for e in one.entries] == [e.guid for e in two.entries]  # NODUP across runs
    guids = [e.guid for e in one.entries]
    assert len(guids) == len(set(guids)) == 5
    first = one.entries[0]
    assert "guid_synthesized" in first.flags and first.guid.startswith("urn:newsradar:")
    assert first.canonical_url == "https://example.org/a"
    assert one.entries[1].url == "" and one.entries[1].summary == "text"
    assert "guid_repeated" in one.entries[3].flags
    assert any("appears twice" in w for w in one.warnings)


def test_items_sharing_one_link_keep_separate_identities() -> None:
    body = rss(
        "".join(f"<item><title>t{n}</title><link>https://x.org/</link></item>" for n in range(3))
    )
    entries = parse(body).entries
    assert len({e.guid for e in entries}) == 3
    assert all("shared_link" in e.flags for e in entries)


@pytest.mark.parametrize(
    ("date", "expected", "flag"),
    [
        ("Sat, 28 Nov 2026 10:00:00 GMT", datetime(2026, 11, 28, 10, tzinfo=UTC), None),
        ("Thu, 01 Jan 2099 00:00:00 GMT", NOW, "published_clamped"),
        # The bounds a page's dates have (newsradar.dates): now + 14 hours, and 1990.
        ("Mon, 30 Nov 2026 04:00:00 GMT", NOW, "published_clamped"),
        ("Sun, 29 Nov 2026 21:00:00 GMT", datetime(2026, 11, 29, 21, tzinfo=UTC), None),
        ("Thu, 01 Jan 1970 00:00:00 GMT", None, "published_implausible"),
        ("Sun, 31 Dec 1989 23:00:00 GMT", None, "published_implausible"),
        ("Wed, 01 Apr 1992 12:00:00 GMT", datetime(1992, 4, 1, 12, tzinfo=UTC), None),
        ("not a date", None, None),
    ],
)
def test_dates_are_clamped_and_flagged(
    date: str, expected: datetime | None, flag: str | None
) -> None:
    entry = parse(
        rss(f"<item><guid>1</guid><title>t</title><pubDate>{date}</pubDate></item>")
    ).entries[0]
    assert entry.published_at == expected
    if flag:
        assert flag in entry.flags


def test_entry_cap_keeps_the_first_and_says_so() -> None:
    body = rss("".join(f"<item><guid>{n}</guid><title>t{n}</title></item>" for n in range(10_000)))
    parsed = parse(body, max_entries=100, time_limit=30.0)
    assert [e.guid for e in parsed.entries[:2]] == ["0", "1"] and len(parsed.entries) == 100
    assert any("10000 entries; kept the first 100" in w for w in parsed.warnings)


def test_scripts_and_javascript_links_are_stored_inert() -> None:
    body = rss(
        "<item><guid>1</guid><title>&lt;script&gt;alert(1)&lt;/script&gt; News</title>"
        "<link>javascript:alert(1)</link><description>&lt;p&gt;Hi &lt;img src=x "
        "onerror=alert(1)&gt;&lt;script&gt;evil()&lt;/script&gt;there&lt;/p&gt;</description></item>"
    )
    entry = parse(body).entries[0]
    assert entry.url == "" and "unsafe_link" in entry.flags
    assert "evil" not in entry.summary and "onerror" not in entry.summary
    assert entry.summary == "Hi there"
    assert "News" in entry.title


@pytest.mark.parametrize(
    "ref", ["&#xD800;", "&#55357;", "&#xdfff;", "&#x110000;", "&#99999999999;"]
)
def test_character_reference_to_no_character_keeps_the_feed(ref: str) -> None:
    # feedparser raises on these (chr() of a surrogate or past U+10FFFF): the feed was lost.
    body = rss(
        f"<item><guid>1</guid><title>Lone {ref} ref</title><description>a {ref} b</description>"
        "</item><item><guid>2</guid><title>Fine &#x1F600;</title></item>"
    )
    parsed = parse(body)
    first, second = parsed.entries
    assert first.title == "Lone \ufffd ref" and first.summary == "a \ufffd b"
    assert second.title == "Fine \U0001f600"
    assert any("character reference" in w for w in parsed.warnings)


@pytest.mark.parametrize(
    "title",
    [
        '<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">NATO <b>summit</b>'
        " &amp; more</div></title>",
        '<title type="html">NATO &lt;b&gt;summit&lt;/b&gt; &amp;amp; more</title>',
        "<title>NATO summit &amp; more</title>",
    ],
)
def test_atom_titles_are_plain_text_whatever_their_type(title: str) -> None:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>F</title><entry><id>urn:1</id>{title}<link href='https://ex.org/a'/></entry></feed>"
    ).encode()
    assert parse(body).entries[0].title == "NATO summit & more"


def test_impossible_dates_are_reported_in_the_warnings() -> None:
    body = rss(
        "<item><guid>a</guid><pubDate>Thu, 01 Jan 2099 00:00:00 GMT</pubDate></item>"
        "<item><guid>b</guid><pubDate>Thu, 01 Jan 1970 00:00:00 GMT</pubDate></item>"
        "<item><guid>c</guid><pubDate>Mon, 23 Nov 2026 08:10:00 GMT</pubDate></item>"
    )
    parsed = parse(body)
    assert [e.published_at for e in parsed.entries] == [
        NOW,
        None,
        datetime(2026, 11, 23, 8, 10, tzinfo=UTC),
    ]
    assert any("1 entry dated in the future: clamped to now" in w for w in parsed.warnings)
    assert any("1 entry dated before 1990: date dropped" in w for w in parsed.warnings)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Россия и НАТО обсудили поставки оружия в Южную Корею и Японию", "koi8-r"),
        ("Россия и НАТО обсудили поставки оружия в Южную Корею и Японию", "windows-1251"),
        ("북한 미사일 발사에 대해 한국 정부는 강력히 항의했다고 발표했다", "euc-kr"),
    ],
    ids=["koi8-r", "windows-1251", "euc-kr"],
)
def test_undeclared_legacy_encoding_is_detected(text: str, encoding: str) -> None:
    # No BOM, no XML encoding, no HTTP charset, not UTF-8: feedparser alone reads cp1252.
    items = "".join(
        f"<item><guid>{n}</guid><title>{text} {n}</title><description>{text}</description></item>"
        for n in range(3)
    )
    body = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'
    )
    parsed = parse(body.encode(encoding), {"content-type": "application/rss+xml"})
    assert [e.title for e in parsed.entries] == [f"{text} {n}" for n in range(3)]


def test_unparseable_link_is_dropped_and_the_feed_still_parses() -> None:
    # urllib raises "Invalid IPv6 URL" on an unclosed bracket: one such item ended the pass.
    body = rss(
        "<item><guid>bad</guid><title>Bad</title><link>http://[::1/x</link></item>"
        "<item><guid>ok</guid><title>Ok</title><link>https://example.org/ok</link></item>"
    )
    bad, ok = parse(body).entries
    assert bad.url == "" and bad.canonical_url == "" and "unsafe_link" in bad.flags
    assert ok.canonical_url == "https://example.org/ok"


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>a</p><p>b</p>", "a b"),
        ("x &amp; y &lt;z&gt;", "x & y <z>"),
        ("<style>p{}</style><b>bold</b>", "bold"),
        ("plain", "plain"),
    ],
)
def test_html_to_text(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


def test_relative_links_resolve_against_the_feed_url() -> None:
    entry = parse(rss("<item><guid>1</guid><title>t</title><link>/news/1</link></item>")).entries[0]
    assert entry.url == "https://example.org/news/1"


def test_a_parser_crash_is_a_parse_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_args: object, **_kw: object) -> None:
        raise ValueError("feedparser bug")

    monkeypatch.setattr("newsradar.feeds.feedparser.parse", boom)
    with pytest.raises(ParseError) as info:
        parse(rss("<item><guid>1</guid></item>"))
    assert info.value.kind == "parse_error" and "ValueError: feedparser bug" in str(info.value)


JSON_FEED = """{
  "version": "https://jsonfeed.org/version/1.1",
  "title": "Wire &amp; desk",
  "items": [
    {"id": "1", "url": "https://ex.org/a", "title": "NATO chief in Seoul",
     "content_html": "<p>Talks on <b>arms</b> transfers</p>",
     "date_published": "2026-11-23T08:10:00+01:00", "authors": [{"name": "Ann"}]},
    {"id": 2, "external_url": "/b", "content_text": "No title, only text",
     "summary": "Short", "date_modified": "2026-11-24T10:00:00Z", "author": {"name": "Bo"}},
    {"url": "https://ex.org/c", "title": "No id"},
    "not an item"
  ]
}"""


def test_json_feed_is_parsed() -> None:
    parsed = parse(JSON_FEED.encode(), {"content-type": "application/feed+json"})
    first, second, third = parsed.entries
    assert parsed.title == "Wire &amp; desk"
    assert (first.guid, first.url, first.title) == ("1", "https://ex.org/a", "NATO chief in Seoul")
    assert first.summary == "Talks on arms transfers" and first.author == "Ann"
    assert first.published_at == datetime(2026, 11, 23, 7, 10, tzinfo=UTC)
    assert (second.guid, second.url, second.title) == ("2", "https://example.org/b", "")
    assert second.summary == "Short" and second.author == "Bo"
    assert second.updated_at == datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
    assert third.guid.startswith("urn:newsradar:") and third.url == "https://ex.org/c"


@pytest.mark.parametrize(
    "body", [b'{"items": ', b'{"version": "https://jsonfeed.org/version/1", "items": 3}']
)
def test_broken_json_feed_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(ParseError, match="is not a valid JSON Feed"):
        parse(body, {"content-type": "application/feed+json"})


def test_the_parser_workers_start_ahead_of_the_first_feed() -> None:
    feeds.shutdown_parser()
    feeds.start_parser()
    for thread in threading.enumerate():
        if thread.name == "newsradar-parser-start":
            thread.join(60)
    pool = feeds._WORKERS._pool  # started, and still the one the next parse uses
    assert pool is not None
    parsed = parse(rss("<item><title>A</title><link>https://e.org/a</link></item>"), time_limit=10)
    assert [e.title for e in parsed.entries] == ["A"]
    assert feeds._WORKERS._pool is pool


def test_the_parser_workers_do_not_rerun_the_callers_main_script(tmp_path: Path) -> None:
    # The console script imports the whole CLI, a served run Prefect's engine: re-run in each
    # worker, that cost a second of CPU per worker and pass.
    script = (
        "print('main ran', flush=True)\n"
        "from newsradar.feeds import parse_feed\n"
        "if __name__ == '__main__':\n"
        "    body = b'<rss><channel><item><title>A</title></item></channel></rss>'\n"
        "    parsed = parse_feed('f', body, headers={}, base_url='https://e.org/f.xml',\n"
        "                        max_entries=10, time_limit=60)\n"
        "    print(*(e.title for e in parsed.entries))\n"
    )
    assert run_as_main(tmp_path, script) == ["main ran", "A"]


def test_a_worker_started_late_does_not_rerun_the_callers_main_script(tmp_path: Path) -> None:
    # The pool starts a worker per submit only while none is idle: on a loaded machine the
    # first worker can answer before the second submit (6 pools in 300 under load), and the
    # second worker then starts later, when two feeds parse at once. The delay stands in for
    # the starting thread being descheduled between the two submits.
    script = (
        "print('main ran', flush=True)\n"
        "import sys, threading, time\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from newsradar.feeds import _WORKERS, parse_feed\n"
        "def delay_first_submit(frame, event, arg):\n"
        "    if event == 'return' and frame.f_code is ProcessPoolExecutor.submit.__code__:\n"
        "        sys.setprofile(None)\n"
        "        time.sleep(2)\n"
        "def parse(items):\n"
        "    body = '<item><title>A</title></item>' * items\n"
        "    body = '<rss><channel>' + body + '</channel></rss>'\n"
        "    return parse_feed('f', body.encode(), headers={}, base_url='https://e.org/f.xml',\n"
        "                      max_entries=10, time_limit=60)\n"
        "if __name__ == '__main__':\n"
        "    sys.setprofile(delay_first_submit)\n"
        "    _WORKERS.get()\n"
        "    big = threading.Thread(target=parse, args=(20000,))\n"
        "    big.start()\n"
        "    time.sleep(0.3)\n"
        "    print(*(e.title for e in parse(1).entries), flush=True)\n"
        "    big.join()\n"
        "    print(len(_WORKERS.get()._processes))\n"
    )
    assert run_as_main(tmp_path, script) == ["main ran", "A", "2"]
