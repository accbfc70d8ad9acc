"""Helpers for the alert tests: programmable loopback SMTP servers and a seeded database."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from newsradar.alerts import MatchedArticle, plan_alerts
from newsradar.alerts.digest import Digest, build_digest
from newsradar.config import Config, load_config
from newsradar.models import Article
from newsradar.store import open_writer
from newsradar.store.alerts import MatchRow, PendingAlert, StoryArticle, queue_alerts
from tests.conftest import write_config

NOW = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)

WATCHLIST = """
[[watch]]
id = "nato"
name = "NATO"
terms = ["NATO"]

[[watch]]
id = "north-korea"
name = "North Korea"
terms = ["North Korea"]
"""


class LoopbackSMTP(Controller):
    """aiosmtpd on 127.0.0.1 with an OS-chosen port (``port=0``), read back once bound."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


@dataclass
class ProgrammableSink:
    """Keeps accepted mail; can drop the connection after DATA or refuse recipients."""

    # How many DATA commands to swallow by closing the connection without a reply.
    drop_after_data: int = 0
    # Address -> reply to RCPT TO, e.g. "550 5.1.1 no such user".
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    # Mails whose connection was dropped after DATA (the server may still have delivered them).
    dropped: list[EmailMessage] = field(default_factory=list)
    # Every DATA received, including those dropped (they may well have been delivered).
    received: int = 0
    logins: int = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = self.rcpt_replies.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.received += 1
        msg = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        if self.drop_after_data > 0:
            self.drop_after_data -= 1
            self.dropped.append(msg)
            server.transport.close()
            return "250 OK"
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        self.logins += 1
        ok = auth_data.password == b"s3cret"
        # handled=False: let aiosmtpd answer 535 itself on failure.
        return AuthResult(success=ok, handled=False, auth_data=None)


@contextmanager
def smtp_server(sink: ProgrammableSink, **kwargs: Any) -> Iterator[LoopbackSMTP]:
    controller = LoopbackSMTP(sink, hostname="127.0.0.1", port=0, **kwargs)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def server_tls_context(cert: Any) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(ctx)
    return ctx


def make_config(
    directory: Path,
    *,
    smtp: str = "",
    alerts: str = 'recipients = ["analyst@example.org"]\n',
    watchlist: str = WATCHLIST,
    lock_timeout: float = 5,
) -> Config:
    settings = (
        f'[storage]\ndatabase = "data/newsradar.duckdb"\nlock_timeout = {lock_timeout}\n\n'
        f'[alerts]\noutbox_dir = "data/outbox"\n{alerts}\n' + (f"[smtp]\n{smtp}\n" if smtp else "")
    )
    return load_config(write_config(directory, feeds="", watchlist=watchlist, settings=settings))


def article(
    article_id: str,
    *,
    title: str = "NATO chief warns North Korea over arms transfers",
    text: str = "",
    story_id: str | None = None,
    feed_id: str = "wire",
    url: str | None = None,
    published_at: datetime | None = NOW,
    fetched_at: datetime = NOW,
) -> Article:
    return Article(
        id=article_id,
        feed_id=feed_id,
        guid=article_id,
        url=url if url is not None else f"https://news.example.org/{article_id}",
        canonical_url=f"https://news.example.org/{article_id}",
        title=title,
        text=text
        or "Stoltenberg said NATO partners in Asia matter. North Korea supplies arms to Russia.",
        fetched_at=fetched_at,
        story_id=story_id or article_id,
        published_at=published_at,
    )


def _spans(text: str, term: str) -> list[tuple[int, int]]:
    out, pos = [], text.find(term)
    while pos >= 0:
        out.append((pos, pos + len(term)))
        pos = text.find(term, pos + 1)
    return out


TERMS = {"nato": "NATO", "north-korea": "North Korea"}


def seed(
    config: Config,
    articles: Sequence[Article],
    *,
    now: datetime = NOW,
    feeds: dict[str, str] | None = None,
) -> int:
    """Store articles, their matches (by plain substring) and the planned alerts in one
    transaction, as the pipeline does; return the number of alert rows queued."""
    feeds = feeds or {"wire": "World Wire", "daily": "The Daily Planet"}
    matched: list[MatchedArticle] = []
    with open_writer(config.storage.database) as con:
        con.execute("BEGIN TRANSACTION")
        for feed_id, title in feeds.items():
            con.execute(
                "INSERT INTO feeds (id, url, configured_url, title) VALUES (?, ?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                [
                    feed_id,
                    f"https://{feed_id}.example.org/rss",
                    f"https://{feed_id}.example.org/rss",
                    title,
                ],
            )
        for a in articles:
            con.execute(
                "INSERT INTO articles (id, feed_id, guid, url, canonical_url, title, text,"
                " published_at, fetched_at, text_source, status, content_hash, story_id)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'page', 'ok', ?, ?)",
                [a.id, a.feed_id, a.guid, a.url, a.canonical_url, a.title, a.text,
                 a.published_at, a.fetched_at, a.id, a.story_id],
            )  # fmt: skip
            fired: list[str] = []
            for watch_id, term in TERMS.items():
                for field_name, value in (("title", a.title), ("body", a.text)):
                    for start, end in _spans(value, term):
                        con.execute(
                            "INSERT INTO matches VALUES (?, ?, 'r1', ?, ?, ?, ?, ?, ?)",
                            [a.id, watch_id, field_name, start, end, term,
                             value[max(0, start - 40) : end + 40], now],
                        )  # fmt: skip
                        fired.append(watch_id)
            if fired:
                matched.append(MatchedArticle(a, tuple(dict.fromkeys(fired))))
        queued = queue_alerts(con, plan_alerts(config, matched, now))
        con.execute("COMMIT")
    return queued


def alert_rows(config: Config) -> list[tuple[Any, ...]]:
    with open_writer(config.storage.database) as con:
        return con.execute(
            "SELECT recipient, watch_id, story_id, status, attempts, digest_id, last_error"
            " FROM alerts ORDER BY recipient, watch_id, story_id"
        ).fetchall()


def _story_article(
    article_id: str, story_id: str, title: str, text: str, url: str, outlet: str, hour: int
) -> StoryArticle:
    return StoryArticle(
        id=article_id,
        story_id=story_id,
        feed_id=outlet.lower().replace(" ", "-"),
        url=url,
        title=title,
        text=text,
        summary=None,
        site_name=None,
        feed_title=outlet,
        published_at=datetime(2026, 11, 29, hour, 15, tzinfo=UTC),
        fetched_at=datetime(2026, 11, 29, hour, 20, tzinfo=UTC),
    )


def _mentions(a: StoryArticle, watch_id: str, term: str) -> list[MatchRow]:
    rows = []
    for name, value in (("title", a.title), ("body", a.text or "")):
        for start, end in _spans(value, term):
            rows.append(MatchRow(a.id, watch_id, name, start, end, term, value[start:end]))
    return rows


HOSTILE_TEXT = (
    "<script>document.body.setAttribute('data-pwned','1')</script> Officials said NATO would "
    "respond. <img src=x onerror=\"document.body.setAttribute('data-pwned2','1')\"> Click "
    '<a href="javascript:alert(1)">here</a>.'
)


def sample_digest(*, hostile: bool = True) -> Digest:
    """A two-watch digest: a story with a syndicated copy, a hostile one, and an update."""
    seoul = _story_article(
        "a1", "s1", "Stoltenberg: NATO partners must stand firm on North Korea",
        "Speaking in Seoul, Stoltenberg said NATO and its Asian partners face a North Korea "
        "that supplies artillery shells to Russia, and urged South Korea to reconsider its "
        "policy on direct arms transfers to Ukraine.",
        "https://news.example.org/nato-seoul", "World Wire", 6,
    )  # fmt: skip
    copy = _story_article(
        "a2", "s1", "NATO chief in Seoul", seoul.text or "", "https://daily.example.org/seoul",
        "The Daily Planet", 7,
    )  # fmt: skip
    evil = _story_article(
        "a3", "s2",
        "Breaking\r\nBcc: victim@example.org <script>alert('title')</script> NATO summit",
        HOSTILE_TEXT if hostile else "Officials said NATO would respond.",
        "javascript:alert(document.cookie)", "Evil <b>Outlet</b>", 5,
    )  # fmt: skip
    mirror = _story_article(
        "a4", "s2", "Mirror", "x", "https://ok.example.org/\"><script>alert(2)</script>",
        "Mirror \"Site\"", 5,
    )  # fmt: skip
    articles = {a.id: a for a in (seoul, copy, evil, mirror)}
    matches = (
        _mentions(seoul, "nato", "NATO")
        + _mentions(seoul, "north-korea", "North Korea")
        + _mentions(evil, "nato", "NATO")
        + _mentions(evil, "north-korea", "North Korea")
    )
    alerts = [
        PendingAlert("x1", "analyst@example.org", "nato", "s1", "a1", "match", "pending", 0,
                     NOW, NOW, None),
        PendingAlert("x2", "analyst@example.org", "north-korea", "s1", "a1", "match",
                     "pending", 0, NOW, NOW, None),
        PendingAlert("x3", "analyst@example.org", "nato", "s2", "a3", "match", "pending", 0,
                     NOW, NOW, None),
    ]  # fmt: skip
    return build_digest(
        "analyst@example.org",
        alerts,
        articles,
        matches,
        {"s1": [seoul, copy], "s2": [evil, mirror]},
        watch_names={"nato": "NATO", "north-korea": "North Korea"},
        tz=ZoneInfo("Europe/Berlin"),
        snippet_chars=200,
        max_snippets=3,
    )


class WebhookSink:
    """A loopback HTTP endpoint for Apprise's ``json://`` channel; answers from ``statuses``."""

    def __init__(self, statuses: Sequence[int] = (200,)) -> None:
        self.statuses = list(statuses)
        self.posts: list[dict[str, Any]] = []
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.posts.append(json.loads(body))
                status = outer.statuses.pop(0) if len(outer.statuses) > 1 else outer.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"json://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> WebhookSink:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
