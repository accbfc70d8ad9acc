"""Reading a response body within a cap counted on DECODED bytes, and sniffing what it is.

We decode ``Content-Encoding`` ourselves, in bounded steps: httpx's decoders inflate a whole
network chunk at once, so one 64 KB brotli chunk can become gigabytes before anyone counts
(Scrapy's CVE-2024-3572 and CVE-2025-6176). Here no decoder step yields more than ``_STEP``
bytes, and reading stops as soon as the decoded total passes the cap.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterator

import brotli
import httpx

from newsradar.errors import PermanentFetchError, TransientFetchError
from newsradar.magic import is_binary

__all__ = ["PAGE_TYPES", "looks_like_feed", "looks_like_page", "read_body"]

_STEP = 64 * 1024
# Media types taken as a page without sniffing (other text/* must show an <html> tag).
PAGE_TYPES = ("", "text/html", "application/xhtml+xml", "text/plain")
_FEED_ROOTS = (b"<rss", b"<feed", b"<rdf:rdf", b"<rdf ", b"<channel", b"<opml")


class _Zlib:
    def __init__(self, wbits: int) -> None:
        self.wbits = wbits
        self.d = zlib.decompressobj(wbits)
        self.started = False

    @property
    def finished(self) -> bool:
        return self.d.eof

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            while data or not self.d.eof:
                out = self.d.decompress(data, _STEP)
                self.started = True
                data = self.d.unconsumed_tail
                if out:
                    yield out
                if not data and len(out) < _STEP:
                    return
        except zlib.error as exc:
            if self.wbits == zlib.MAX_WBITS and not self.started:
                # "deflate" is sometimes sent raw, without the zlib header.
                self.wbits, self.d = -zlib.MAX_WBITS, zlib.decompressobj(-zlib.MAX_WBITS)
                yield from self.feed(data)
                return
            raise _DecodeError(str(exc)) from exc


class _Brotli:
    def __init__(self) -> None:
        self.d = brotli.Decompressor()

    @property
    def finished(self) -> bool:
        return bool(self.d.is_finished())

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self.d.process(data, output_buffer_limit=_STEP)
            if out:
                yield out
            while not self.d.can_accept_more_data():
                out = self.d.process(b"", output_buffer_limit=_STEP)
                if not out:
                    return
                yield out
        except brotli.error as exc:
            raise _DecodeError(str(exc)) from exc


class _DecodeError(Exception):
    pass


def _decoders(content_encoding: str) -> list[_Zlib | _Brotli]:
    stages: list[_Zlib | _Brotli] = []
    for coding in (c.strip().lower() for c in content_encoding.split(",")):
        if coding in ("gzip", "x-gzip"):
            stages.append(_Zlib(16 + zlib.MAX_WBITS))
        elif coding == "deflate":
            stages.append(_Zlib(zlib.MAX_WBITS))
        elif coding == "br":
            stages.append(_Brotli())
        # identity, empty and unknown codings pass through, as httpx does.
    # Codings are listed in the order they were applied; undo them last first.
    return stages[::-1]


def _through(stages: list[_Zlib | _Brotli], data: bytes) -> Iterator[bytes]:
    if not stages:
        if data:
            yield data
        return
    for piece in stages[0].feed(data):
        yield from _through(stages[1:], piece)


async def read_body(
    response: httpx.Response, url: str, cap: int, *, truncate: bool = False
) -> bytes:
    """Read and decode the body; ``too_large`` past ``cap`` decoded bytes (or cut when
    ``truncate``). A ``Content-Length`` over the cap is refused before reading."""
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > cap and not truncate:
        raise PermanentFetchError(
            "too_large", url, f"Content-Length {length} is over the cap of {cap} bytes"
        )
    stages = _decoders(response.headers.get("content-encoding", ""))
    chunks: list[bytes] = []
    total = 0
    fed = False  # any body at all: an empty one is not a cut stream
    raw: AsyncIterator[bytes] = response.aiter_raw()
    try:
        async for data in raw:
            fed = fed or bool(data)
            for piece in _through(stages, data):
                total += len(piece)
                if total > cap:
                    if truncate:
                        chunks.append(piece[: len(piece) - (total - cap)])
                        return b"".join(chunks)
                    raise PermanentFetchError(
                        "too_large", url, f"body is over the cap of {cap} bytes once decoded"
                    )
                chunks.append(piece)
    except _DecodeError as exc:
        raise PermanentFetchError(
            "decode_error", url, f"body is not valid {response.headers['content-encoding']}: {exc}"
        ) from None
    if fed and not all(stage.finished for stage in stages):
        # The framing was intact but the compressed stream stops early: a cut transfer (or a
        # cut cached copy). Taking the prefix would store half an article as the whole.
        raise TransientFetchError(
            "protocol_error",
            url,
            f"the {response.headers['content-encoding']} body ends before its end-of-stream mark",
        )
    return b"".join(chunks)


def _prefix(body: bytes) -> bytes:
    head = body[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:1] == b"\x00" or head[1:2] == b"\x00":
        head = head.replace(b"\x00", b"")  # UTF-16/32: good enough to find markup
    return head.lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n").lower()


def looks_like_feed(body: bytes) -> bool:
    """True when the body looks like RSS, Atom, RDF or a JSON Feed (never HTML or binary)."""
    if is_binary(body):
        return False
    head = _prefix(body)
    if head.startswith(b"{"):
        return b"jsonfeed.org" in head or b'"items"' in head
    if not head.startswith(b"<"):
        return False
    root = min((i for i in (head.find(r) for r in _FEED_ROOTS) if i >= 0), default=-1)
    html = min((i for i in (head.find(t) for t in (b"<html", b"<body")) if i >= 0), default=-1)
    return root >= 0 and (html < 0 or root < html)


def looks_like_page(content_type: str, body: bytes) -> bool:
    """True for HTML or XHTML (or text) pages; PDFs, archives and images are not."""
    if is_binary(body):
        return False
    if content_type in PAGE_TYPES:
        return True
    return content_type.startswith("text/") and b"<html" in _prefix(body)
