"""OPML in and out: read a reader's subscription list, write ours. Pure functions.

new, skipped = outlines_to_feeds(read_opml(data), existing=cfg.feeds)
write_atomic(path, path.read_text() + feeds_toml(new))
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from newsradar.config import FeedConfig
from newsradar.errors import NewsradarError

__all__ = ["Outline", "feeds_toml", "outlines_to_feeds", "read_opml", "write_opml"]

_MAX_OPML = 20_000_000
# Characters XML 1.0 cannot carry at all (not even escaped).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Outline:
    """One subscription of an OPML file."""

    url: str
    title: str
    # The folder (parent outline) it was filed under, if any; becomes a tag.
    folder: str | None = None


def read_opml(data: bytes, source: str = "OPML") -> list[Outline]:
    """Every outline with an ``xmlUrl``, in document order (folders become tags)."""
    if len(data) > _MAX_OPML:
        raise NewsradarError(f"{source}: over {_MAX_OPML} bytes; is this really an OPML file?")
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data[:4096].upper():
        # Subscription lists need no DTD; refusing one rules out entity tricks entirely.
        raise NewsradarError(f"{source}: has a DOCTYPE/ENTITY declaration; refusing to read it")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise NewsradarError(f"{source}: not valid OPML/XML ({exc})") from None
    outlines: list[Outline] = []

    def walk(node: ET.Element, folder: str | None) -> None:
        for child in node:
            if child.tag.lower() != "outline":
                walk(child, folder)
                continue
            attrs = {k.lower(): v for k, v in child.attrib.items()}
            url = attrs.get("xmlurl", "").strip()
            title = (attrs.get("title") or attrs.get("text") or "").strip()
            if url:
                outlines.append(Outline(url, title, folder))
            walk(child, folder if url else (title or folder))

    walk(root, None)
    return outlines


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:40].strip("-")
    return slug or "feed"


def _same_feed_key(url: str) -> str:
    """``url`` as the server reads it: scheme and host in any case, the default port written
    out or not, a fragment (never sent) all name the same feed. Paths and queries stay as they
    are: a server may tell them apart."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    user = parts.netloc.rpartition("@")[0]
    netloc = f"{user}@{host}" if user else host
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def outlines_to_feeds(
    outlines: Sequence[Outline],
    existing: Sequence[FeedConfig],
    removed: Mapping[str, str] | None = None,
) -> tuple[list[FeedConfig], list[str]]:
    """New feeds with unique names; URLs already configured or not http(s) are skipped
    (each skip says why). ``removed``: name -> URL of feeds stored but no longer configured;
    their names are taken, except by the same URL coming back."""
    removed = removed or {}
    configured = {f.name for f in existing}
    names = configured | set(removed)
    returning = {_same_feed_key(url): name for name, url in removed.items()}
    urls = {_same_feed_key(f.url) for f in existing}
    added: list[FeedConfig] = []
    skipped: list[str] = []
    for outline in outlines:
        key = _same_feed_key(outline.url)
        if key in urls:
            skipped.append(f"{outline.url}: already in feeds.toml")
            continue
        base = _slug(outline.title or re.sub(r"^https?://(www\.)?", "", outline.url))
        name, n = base, 2
        while name in names:
            name, n = f"{base}-{n}", n + 1
        if key in returning and returning[key] not in configured:
            name = returning[key]  # a removed feed comes back under its name, as it was
        try:
            feed = FeedConfig(
                name=name,
                url=outline.url,
                title=outline.title or None,
                tags=(_slug(outline.folder),) if outline.folder else (),
            )
        except ValidationError as exc:
            skipped.append(f"{outline.url}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}")
            continue
        names.add(name)
        urls.add(key)
        added.append(feed)
    return added, skipped


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'"{escaped}"'


def feeds_toml(feeds: Sequence[FeedConfig]) -> str:
    """``[[feed]]`` tables to append to feeds.toml."""
    blocks = []
    for feed in feeds:
        lines = ["[[feed]]", f"name = {_toml_string(feed.name)}", f"url = {_toml_string(feed.url)}"]
        if feed.title:
            lines.append(f"title = {_toml_string(feed.title)}")
        if feed.tags:
            lines.append(f"tags = [{', '.join(_toml_string(t) for t in feed.tags)}]")
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


def write_opml(feeds: Sequence[FeedConfig], title: str = "newsradar feeds") -> str:
    """An OPML 2.0 document listing ``feeds`` (tags become folders)."""
    root = ET.Element("opml", version="2.0")
    ET.SubElement(ET.SubElement(root, "head"), "title").text = title
    body = ET.SubElement(root, "body")
    folders: dict[str, ET.Element] = {}
    for feed in feeds:
        parent = body
        if feed.tags:
            tag = feed.tags[0]
            if tag not in folders:
                folders[tag] = ET.SubElement(body, "outline", text=tag, title=tag)  # a slug
            parent = folders[tag]
        label = _NOT_XML.sub("", feed.title or feed.name)
        url = _NOT_XML.sub("", feed.url)
        ET.SubElement(parent, "outline", type="rss", text=label, title=label, xmlUrl=url)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
