"""Folding: NFKC, typography, case and accents, separator runs, and the way back."""

from __future__ import annotations

import pytest

from newsradar.normalize import (
    Folded,
    _fold_general,
    fold,
    fold_cased,
    fold_words,
    is_word_char,
    word_view,
)


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


# Every ASCII character, alone and between letters: the ASCII fast paths (bytes tables) must
# agree with the general per-character folding they stand in for.
@pytest.mark.parametrize("code", range(128))
def test_ascii_fast_path_agrees_with_the_general_fold(code: int) -> None:
    text = f"Ab{chr(code)}{chr(code)}Cd \u00e9"  # the trailing é forces the general path
    general = fold(text)
    fast = fold(text[:-2])
    assert fast.text == general.text[:-2]
    # Hits begin and end on word characters: compare the spans of the characters that are
    # not a collapsed separator (the paths differ there by design, and no hit ends there).
    kept = [i for i, ch in enumerate(fast.text) if ch != " "]
    assert [fast.span(i, j + 1) for i in kept for j in kept if i <= j] == [
        general.span(i, j + 1) for i in kept for j in kept if i <= j
    ]
    assert word_view(fast.text) == word_view(general.text)[:-2]


# Non-ASCII text: the fast path (each non-ASCII character folds to one ASCII character) must
# give what the per-character fold gives; the others must take the per-character fold.
@pytest.mark.parametrize(
    ("text", "fast"),
    [
        ("Erdoğan’s  NATO-led talks", True),
        ("Türkiye \u2014 \u201cNato\u201d\u00a0summit\u2009in  Ankara", True),
        ("Kim Jong\u2010un,\n\n  naïve café Øresund", True),
        ("\u00a0\u00a0leading and trailing\u2003\u2003", True),
        ("Æsir and Œuvre", False),  # one character folds to two
        ("Москва и NATO", False),  # Cyrillic stays Cyrillic
        ("NA\u00adTO", False),  # the soft hyphen is dropped
        ("Cafe\u0301 society", False),  # a combining accent is dropped with its letter
    ],
)
def test_latin_fast_path_agrees_with_the_general_fold(text: str, fast: bool) -> None:
    folded, general = fold(text), _fold_general(text)
    assert (folded.starts is None) == fast
    _assert_same_fold(folded, general)


@pytest.mark.parametrize(
    "text",
    ["a  b   c    d     e", "   leading run", "trailing run    ", "x \n\t - y", "  ", "a - - b"],
)
def test_ascii_space_runs_collapse_as_in_the_general_fold(text: str) -> None:
    folded, general = fold(text), _fold_general(text)
    assert folded.starts is None  # the ASCII path
    _assert_same_fold(folded, general)


def _assert_same_fold(folded: Folded, general: Folded) -> None:
    """Same text, same original span for every slice that begins and ends on a character that
    is not a collapsed separator (hits never begin or end on one; the paths differ there)."""
    assert folded.text == general.text
    kept = [i for i, ch in enumerate(folded.text) if ch != " "]
    assert [folded.span(i, j + 1) for i in kept for j in kept if i <= j] == [
        general.span(i, j + 1) for i in kept for j in kept if i <= j
    ]


# (text, whether fold_words keeps the runs of spaces: none lies between two words)
WORD_RUNS = [
    ("NATO said.\n    Russia said", True),
    ("(Reuters) -  NATO", True),
    ("  leading and trailing  ", True),
    ("no runs at all", True),
    ("T\u00fcrkiye.\n    Erdo\u011fan", True),  # the ASCII path after folding letters
    ("Kim  Jong Un", False),
    ("Kim Jong-\nUn", False),
    ("dlrs\n    Net 4.5 mln", False),
    ("Erdo\u011fan  said", False),
    ("page 1  2", False),
]


@pytest.mark.parametrize(("text", "kept"), WORD_RUNS)
def test_fold_words_keeps_runs_only_away_from_words(text: str, kept: bool) -> None:
    folded = fold_words(text)
    if kept:
        # Every offset unchanged: the text is fold's before collapsing, the map is identity.
        assert folded.pieces is None and folded.starts is None
        assert len(folded.text) == len(text)
        assert " ".join(folded.text.split()) == " ".join(fold(text).text.split())
        assert folded.span(1, 3) == (1, 3)
    else:
        assert folded.text == fold(text).text


def test_fold_words_on_text_the_ascii_path_cannot_take() -> None:
    text = "\u00c6sir  \u0410\u0411"  # expands and Cyrillic: the general path
    assert fold_words(text).text == fold(text).text
