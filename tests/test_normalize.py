"""Folding: NFKC, typography, case and accents, separator runs, and the way back."""

from __future__ import annotations

import pytest

from newsradar.normalize import fold, fold_cased, is_word_char, word_view


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("NATO-led", "nato led"),
        ("Erdo\u011fan\u2019s", "erdogan's"),
        ("T\u00fcrkiye", "turkiye"),
        ("Stra\u00dfe", "strasse"),
        ("\ufb01ne", "fine"),
        ("\uff2e\uff21\uff34\uff2f", "nato"),
        ("Kim\u00a0Jong\u2014Un", "kim jong un"),
        ("a \n\t - b", "a b"),
        ("NA\u00adTO", "nato"),
        ("\u201cquoted\u201d", '"quoted"'),
        ("\u30ac\u30b6", "\u30ac\u30b6"),  # kana keep their voicing marks
        ("\ud55c\uad6d", "\ud55c\uad6d"),  # Hangul stays composed
        ("\u0130stanbul", "istanbul"),
        ("\u0141\u00f3d\u017a", "lodz"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text).text == folded


@pytest.mark.parametrize(
    ("text", "start", "end", "original"),
    [
        ("Erdo\u011fan\u2019s  NATO-led", 10, 14, "NATO"),
        ("a\n\n    NATO", 2, 6, "NATO"),
        ("Stra\u00dfe x", 0, 7, "Stra\u00dfe"),
        ("Jose\u0301 x", 0, 4, "Jose\u0301"),
        ("plain text", 6, 10, "text"),
    ],
)
def test_span_maps_back_to_the_original(text: str, start: int, end: int, original: str) -> None:
    first, after = fold(text).span(start, end)
    assert text[first:after] == original


def test_fold_cased_keeps_case_and_accents() -> None:
    assert fold_cased("T\u00fcrkiye\u2019s  Kim-Jong") == "T\u00fcrkiye's Kim Jong"
    assert fold_cased("Jose\u0301") == "Jos\u00e9"


@pytest.mark.parametrize(
    ("ch", "word"), [("a", True), ("7", True), ("_", False), ("-", False), ("\u4e2d", False)]
)
def test_word_chars(ch: str, word: bool) -> None:
    assert is_word_char(ch) is word


def test_word_view_keeps_length() -> None:
    assert word_view("nato's #1 \u4e2d\u56fdnato") == "nato s  1   nato"
