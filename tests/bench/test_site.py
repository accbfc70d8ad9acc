"""The benchmark's loopback site: pages under distinct URLs, feeds with ETags, a request log."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import httpx
from bench._site import Site, SiteServer, parse_page_path

BODY = "The alliance met in Brussels on Monday to discuss arms transfers to the region."


def _corpus(root: Path) -> Path:
    """A two-page AEB-shaped corpus: ground-truth.json and html/<id>.html.gz."""
    (root / "html").mkdir(parents=True)
    truth = {}
    for key in ("aaaa1111", "bbbb2222"):
        page = f"<html><head><title>{key}</title></head><body><p>{BODY}</p></body></html>"
        (root / "html" / f"{key}.html.gz").write_bytes(gzip.compress(page.encode()))
        truth[key] = {"articleBody": BODY, "url": f"https://example.org/{key}"}
    (root / "ground-truth.json").write_text(json.dumps(truth))
    return root


def test_the_site_serves_distinct_pages_and_conditional_feeds(tmp_path: Path) -> None:
    site = Site(_corpus(tmp_path / "aeb"), pages=5, feeds=2)
    with SiteServer(site) as server, httpx.Client(base_url=server.base) as client:
        feed = client.get("/feeds/00.xml")
        assert feed.status_code == 200 and b"<rss" in feed.content
        assert (
            client.get("/feeds/00.xml", headers={"If-None-Match": feed.headers["ETag"]}).status_code
            == 304
        )

        bodies = [client.get(site.path(i)).content for i in range(5)]
        assert bodies[0] == site.html[0]  # copy 0 as the corpus has it
        assert len(set(bodies)) == 5  # every later copy carries its own sentence
        assert BODY.encode() in bodies[4]
        assert client.get("/news/99/nothing.html").status_code == 404

        assert server.pages_served == 5
        paths = [path for _, path, _ in server.requests_since(0)]
        assert paths[:2] == ["/feeds/00.xml", "/feeds/00.xml"]
        expected = [(site.ids[site.locate(i)[0]], site.locate(i)[1]) for i in range(5)]
        assert [parse_page_path(p) for p in paths[2:7]] == expected
