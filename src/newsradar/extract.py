"""Article extraction: HTML bytes in, body text and metadata out (trafilatura).

Pure: no network, no database. ``extract_page`` decodes the bytes itself (HTTP charset, then a
``<meta>`` charset, then UTF-8 with replacement) so pages that declare their charset only in a
``<meta>`` tag come out right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import trafilatura

__all__ = ["ExtractedPage", "decode_html", "extract_page"]

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """What trafilatura found on a page; empty ``text`` means nothing usable."""

    text: str
    title: str | None = None
    author: str | None = None
    # ISO date string as found on the page (YYYY-MM-DD), if any.
    date: str | None = None
    language: str | None = None
    site_name: str | None = None
    canonical_url: str | None = None


def decode_html(body: bytes, content_type: str | None = None) -> str:
    """Decode page bytes: HTTP charset, else ``<meta charset>``, else UTF-8 (lossy)."""
    candidates: list[str] = []
    if content_type and "charset=" in content_type.lower():
        candidates.append(content_type.lower().split("charset=", 1)[1].split(";")[0].strip(" \"'"))
    found = _META_CHARSET.search(body[:4096])
    if found:
        candidates.append(found.group(1).decode("ascii", "replace"))
    candidates.append("utf-8")
    for name in candidates:
        try:
            return body.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")


def extract_page(
    html: bytes | str, url: str | None = None, *, content_type: str | None = None
) -> ExtractedPage:
    """Extract body text and metadata from one HTML page."""
    text_html = decode_html(html, content_type) if isinstance(html, bytes) else html
    doc = trafilatura.bare_extraction(
        text_html, url=url, with_metadata=True, include_comments=False, include_tables=True
    )
    if doc is None:
        return ExtractedPage(text="")
    data: dict[str, Any] = doc if isinstance(doc, dict) else doc.as_dict()
    return ExtractedPage(
        text=(data.get("text") or "").strip(),
        title=data.get("title") or None,
        author=data.get("author") or None,
        date=data.get("date") or None,
        language=data.get("language") or None,
        site_name=data.get("sitename") or None,
        canonical_url=data.get("url") or None,
    )
