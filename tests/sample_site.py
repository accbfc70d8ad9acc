"""Small feeds and pages written for the tests, served by LoopbackHTTPServer."""

from __future__ import annotations

from html import escape
from pathlib import Path

from tests.loopback import LoopbackHTTPServer

FIXTURES = Path(__file__).with_name("fixtures")
SEED = (FIXTURES / "stoltenberg-asia-visit.txt").read_text(encoding="utf-8")

WATCHLIST = """
[[watch]]
id = "nato"
terms = ["NATO"]

[[watch]]
id = "north-korea"
terms = ["North Korea", "Pyongyang"]

[[watch]]
id = "south-korea"
terms = ["South Korea", "Seoul"]

[[watch]]
id = "japan"
terms = ["Japan", "Tokyo"]

[[watch]]
id = "china"
terms = ["China"]

[[watch]]
id = "russia"
terms = ["Russia"]

[[watch]]
id = "ukraine"
terms = ["Ukraine"]

[[watch]]
id = "arms-transfers"
terms = ["arms transfers", "transferring weapons"]

[[watch]]
id = "brazil"
terms = ["Brazil"]
"""


def html_page(title: str, text: str) -> str:
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in text.split("\n") if p.strip())
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{escape(title)}</title></head>"
        f"<body><article><h1>{escape(title)}</h1>{paragraphs}</article></body></html>"
    )


def rss(items: list[tuple[str, str, str, str]]) -> str:
    """items: (guid, title, link, summary)."""
    body = "".join(
        f"<item><guid isPermaLink='false'>{escape(g)}</guid><title>{escape(t)}</title>"
        f"<link>{escape(link)}</link><description>{escape(s)}</description>"
        "<pubDate>Mon, 23 Nov 2026 08:10:00 GMT</pubDate></item>"
        for g, t, link, s in items
    )
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Test wire</title><link>http://example.org/</link>{body}</channel></rss>"
    )


def serve_seed(server: LoopbackHTTPServer, feed_path: str = "/feed.xml") -> None:
    """A feed with the seed story and an unrelated story."""
    server.route(
        "/seed.html",
        html_page("NATO chief visits South Korea and Japan", SEED),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    server.route(
        "/football.html",
        html_page("Harbour United win the derby", FOOTBALL),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    server.route(
        feed_path,
        rss(
            [
                (
                    "seed-1",
                    "NATO chief visits South Korea and Japan",
                    server.url("/seed.html"),
                    "Stoltenberg began a four-day visit.",
                ),
                (
                    "sport-1",
                    "Harbour United win the derby",
                    server.url("/football.html"),
                    "A late goal settled it.",
                ),
            ]
        ),  # fmt: skip
        headers={"Content-Type": "application/rss+xml"},
    )


FOOTBALL = """Harbour United won the derby 2-1 on Saturday with a goal in the last minute of
stoppage time, lifting the club to third place in the table.
The home side had fallen behind early when a deflected shot looped over the goalkeeper, but the
captain levelled the score before half-time with a header from a corner.
The winner came from a substitute who had been on the pitch for only five minutes. The manager
praised the crowd and said the squad would travel to the next away game full of confidence.
"""
