"""Bytes that are certainly not a feed or a page: the magic numbers of common binary files.

The fetcher (deciding whether a response is a page) and the extractor (deciding whether to
parse one) both ask :func:`is_binary`, so they agree on what is binary.

    >>> is_binary(b"%PDF-1.7 ..."), is_binary(b"BMW shares rose ...")
    (True, False)
"""

from __future__ import annotations

__all__ = ["BINARY_MAGIC", "is_binary"]

# Only signatures that no text starts with: PDF, zip (docx, epub...), gzip, RAR, PNG, GIF, JPEG,
# RIFF (WAV, AVI, WebP), ICO, MP3 with an ID3 tag, ELF. Not BMP's "BM" ("BMW shares rose"):
# a bitmap comes with an image/ media type, which is refused before the bytes are looked at.
BINARY_MAGIC = (
    b"%PDF",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"Rar!",
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"RIFF",
    b"\x00\x00\x01\x00",
    b"ID3",
    b"\x7fELF",
)


def is_binary(body: bytes) -> bool:
    """True when ``body``, after any leading whitespace, starts with a binary signature."""
    return body[:64].lstrip()[:8].startswith(BINARY_MAGIC)
