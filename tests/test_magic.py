"""The binary signatures that fetcher and extractor share."""

from __future__ import annotations

import pytest

from newsradar.extract import is_html
from newsradar.fetch.body import looks_like_page
from newsradar.magic import is_binary


@pytest.mark.parametrize(
    "body",
    [
        b"%PDF-1.7\n1 0 obj",
        b"PK\x03\x04\x14\x00",
        b"\x1f\x8b\x08\x00",
        b"Rar!\x1a\x07",
        b"\x89PNG\r\n\x1a\n",
        b"GIF89a",
        b"\xff\xd8\xff\xe0",
        b"RIFF\x24\x08\x00\x00WAVE",
        b"\x00\x00\x01\x00\x01\x00",
        b"ID3\x04\x00",
        b"\x7fELF\x02\x01",
        b"\r\n  %PDF-1.4 after blank lines",
    ],
)
def test_binary_signatures_are_binary_for_fetcher_and_extractor(body: bytes) -> None:
    assert is_binary(body)
    assert not looks_like_page("text/html", body)
    assert not is_html(body, "text/html")


@pytest.mark.parametrize(
    "body",
    [
        b"BMW shares rose 3% in Frankfurt.",  # a bitmap's "BM" is not a signature here
        b"ID card rules change",
        b"<html><body>PK</body></html>",
        b"",
    ],
)
def test_text_is_not_binary(body: bytes) -> None:
    assert not is_binary(body)
    assert is_html(body, "text/plain")
    if body:
        assert looks_like_page("text/plain", body)
