"""Identity of entries and articles: canonical URLs, content hashes, stable ids.

Pure functions; the dedup rules that use them live in the pipeline and the store.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["article_id", "canonical_url", "content_hash", "stable_id"]

_TRACKING = re.compile(r"^(utm_.*|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|ref_src|_ga)$")


def canonical_url(url: str) -> str:
    """Normalise a URL for dedup: one form for http/https, www., default ports, tracking."""
    url = url.strip()
    if not url:
        return ""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    port = parts.port
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not _TRACKING.match(k)
        ]
    )
    path = parts.path or "/"
    # http and https variants of a page are one article.
    return urlunsplit(("https", netloc, path, query, ""))


def content_hash(text: str) -> str:
    """Hash of the text with case, accents-preserving NFKC and whitespace normalised."""
    norm = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return hashlib.sha256(norm.encode("utf-8")).hexdigest()


def stable_id(*parts: str) -> str:
    """A short deterministic id from its parts (the same inputs give the same id)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:20]


def article_id(feed_id: str, guid: str) -> str:
    """The id of the article an entry becomes."""
    return stable_id("article", feed_id, guid)
