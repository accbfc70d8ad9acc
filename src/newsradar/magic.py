"""What bytes are: certainly not a feed or a page (the magic numbers of common binary files),
or text in an encoding nobody declared.

The fetcher (deciding whether a response is a page) and the extractor (deciding whether to
parse one) both ask :func:`is_binary`, so they agree on what is binary; pages and feeds that
declare no encoding and are not UTF-8 are read with :func:`detect_encoding`.

    >>> is_binary(b"%PDF-1.7 ..."), is_binary(b"BMW shares rose ...")
    (True, False)
"""

from __future__ import annotations

__all__ = ["BINARY_MAGIC", "detect_encoding", "is_binary"]

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


def detect_encoding(body: bytes) -> str | None:
    """The encoding a detector (charset_normalizer) reads ``body`` in; None when it cannot tell.

    For bytes that declare no encoding and are not UTF-8; the first 200 KB are enough.
    """
    from charset_normalizer import from_bytes  # imported when needed: rarely

    best = from_bytes(body[:200_000]).best()
    return best.encoding if best is not None and best.encoding else None
