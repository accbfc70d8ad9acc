"""Text folding for matching, with a map back to the original characters.

Matching runs over a *folded* copy of each field: Unicode NFKC, typographic normalisation
(curly quotes, dashes, non-breaking and other spaces), case folding and accent stripping, and
every run of spaces, hyphens and line breaks collapsed into one space. Mentions must point into
the *original* text, so :func:`fold` also records, for every folded character, the span of
original characters it came from.

    >>> folded = fold("Erdoğan’s  NATO-led")
    >>> folded.text
    "erdogan's nato led"
    >>> folded.span(10, 14)                     # "nato" in the folded text
    (11, 15)

:func:`fold_cased` is the same folding without the case and accent steps; ``cs("...")`` terms
and the acronym rule compare against it.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left

from newsradar.scanner import Pattern

__all__ = [
    "Folded",
    "fold",
    "fold_cased",
    "fold_words",
    "is_nospace_char",
    "is_word_char",
    "word_view",
]

# Dash-like characters that behave as hyphens (the soft hyphen is dropped instead).
_DASHES = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d")
_SINGLE_QUOTES = frozenset("\u2018\u2019\u201a\u201b\u2032\u02bc\uff07")
_DOUBLE_QUOTES = frozenset("\u201c\u201d\u201e\u201f\u2033\uff02")
# Invisible characters that must not split or join words: soft hyphen, zero-width space/joiners,
# word joiner, byte-order mark.
_DROP = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")
# Letters that carry an "accent" Unicode does not decompose.
_LETTERS = {
    "ı": "i",
    "ø": "o",
    "ł": "l",
    "đ": "d",
    "ħ": "h",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
}
_SEP_RUN = re.compile(r"[\s\-]+")
# ASCII folding as one bytes.translate (a C table lookup per byte, several times faster than
# str.lower + str.translate with a dict): capitals to lower case, separators to a space.
_ASCII_FOLD = bytes(
    ord(" ") if chr(c).isspace() or chr(c) == "-" else ord(chr(c).lower()) for c in range(256)
)
# Runs of two or more spaces, captured. Written with a two-space literal prefix, which the
# regex engine searches for directly: 3x faster than "( {2,})", which stops at every space.
_SPACE_RUNS = re.compile("(  [ ]*)")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# A run of spaces between two letters or digits of ASCII folded text (see fold_words): a
# Hyperscan scan, twice as fast as the best regular expression for it.
_WORD_RUN = Pattern(rb"[a-z0-9]  +[a-z0-9]")
# Code point ranges of scripts written without spaces between words (CJK, kana, Hangul, Thai,
# Lao, Khmer, Myanmar): terms in them match as substrings, and they do not block word
# boundaries of Latin terms ("NATO는", "北约NATO").
_NOSPACE = (
    (0x0E00, 0x0EFF),
    (0x1000, 0x109F),
    (0x1100, 0x11FF),
    (0x1780, 0x17FF),
    (0x2E80, 0x2FDF),
    (0x3040, 0x31FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xA960, 0xA97F),
    (0xAC00, 0xD7FF),
    (0xF900, 0xFAFF),
    (0xFF66, 0xFF9F),
    (0x20000, 0x3FFFF),
)


_NOT_WORD = re.compile(
    "[\\W_" + "".join(f"\\U{low:08x}-\\U{high:08x}" for low, high in _NOSPACE) + "]"
)


_ASCII_VIEW = bytes(c if c < 128 and chr(c).isalnum() else ord(" ") for c in range(256))


def word_view(folded: str) -> str:
    """``folded`` with every character that is not a word character turned into a space.

    Same length, same offsets: a search key ``" nato "`` found in ``" " + view + " "`` is a
    whole-word hit without any further check (rule 1).
    """
    if folded.isascii():
        return folded.encode("ascii").translate(_ASCII_VIEW).decode("ascii")
    return _NOT_WORD.sub(" ", folded)


def is_nospace_char(ch: str) -> bool:
    """True for characters of scripts written without spaces (Chinese, Japanese, Korean...)."""
    code = ord(ch)
    if code < 0x0E00:
        return False
    return any(low <= code <= high for low, high in _NOSPACE)


def is_word_char(ch: str) -> bool:
    """A letter or digit that glues to a term next to it (rule 1 of docs/watchlist.md)."""
    return ch.isalnum() and not is_nospace_char(ch)


def _strippable(decomposed: str) -> bool:
    # Accents are stripped only from Latin, Greek and Cyrillic letters: Japanese voicing marks
    # or Indic vowel signs are part of the letter, not decoration.
    return all(
        ord(c) < 0x0530 or 0x1E00 <= ord(c) <= 0x1FFF or unicodedata.combining(c)
        for c in decomposed
    )


def _typographic(ch: str) -> str | None:
    if ch in _DROP:
        return ""
    if ch.isspace():
        return " "
    if ch in _DASHES:
        return "-"
    if ch in _SINGLE_QUOTES:
        return "'"
    if ch in _DOUBLE_QUOTES:
        return '"'
    return None


def _fold_char(ch: str) -> str:
    typo = _typographic(ch)
    if typo is not None:
        return typo
    if unicodedata.combining(ch) and ord(ch) < 0x0370:
        return ""  # a stray combining accent (decomposed input): dropped with the accent rule
    decomposed = unicodedata.normalize("NFKD", ch)
    if _strippable(decomposed):
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        folded = unicodedata.normalize("NFC", base).casefold()
    else:
        folded = unicodedata.normalize("NFKC", ch).casefold()
    folded = "".join(_LETTERS.get(c, c) for c in folded)
    return " " if folded.isspace() else folded


def _fold_cased_char(ch: str) -> str:
    typo = _typographic(ch)
    if typo is not None:
        return typo
    folded = unicodedata.normalize("NFKC", ch)
    return " " if folded.isspace() else folded


_FOLD: dict[str, str] = {}
_FOLD_CASED: dict[str, str] = {}


class Folded:
    """Folded text and the way back to original offsets.

    Non-ASCII text keeps, per folded character, the original span it came from
    (``starts``/``ends``). ASCII text changes only where a run of spaces collapsed; the runs
    are indexed when the first span is asked for (``pieces`` alternates the text between runs
    and the runs themselves), as ``runs`` (their folded positions) and ``extra[k]``
    (characters the first k removed).
    """

    __slots__ = ("ends", "extra", "pieces", "runs", "starts", "text")

    def __init__(
        self,
        text: str,
        starts: list[int] | None = None,
        ends: list[int] | None = None,
        *,
        pieces: list[str] | None = None,
    ) -> None:
        self.text = text
        self.starts = starts
        self.ends = ends
        self.pieces = pieces
        self.runs: list[int] | None = None
        self.extra: list[int] = [0]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Map the folded slice ``[start, end)`` (non-empty) to original offsets."""
        if self.starts is not None and self.ends is not None:
            return self.starts[start], self.ends[end - 1]
        pieces = self.pieces
        if pieces is None:
            return start, end
        runs = self.runs
        if runs is None:
            runs = self.runs = []
            extra = self.extra
            position = 0
            for k in range(1, len(pieces), 2):
                position += len(pieces[k - 1])
                runs.append(position)
                extra.append(extra[-1] + len(pieces[k]) - 1)
                position += 1
        return start + self.extra[bisect_left(runs, start)], end + self.extra[
            bisect_left(runs, end - 1)
        ]


def _fold_ascii(text: str, runs: bool = True) -> Folded:
    # C-level str/bytes methods only: this runs on every field of every article.
    flat = text.encode("ascii").translate(_ASCII_FOLD).decode("ascii")
    if "  " not in flat or (not runs and not _WORD_RUN.search(flat)):
        return Folded(flat)
    # One regex pass gives both the collapsed text and, kept for the offset map, the runs:
    # a regex scan costs about as much as everything else folding does (measured: sub, then
    # finditer when a span is asked, took twice this; halving runs with str.replace, more).
    pieces = _SPACE_RUNS.split(flat)
    return Folded(" ".join(pieces[::2]), pieces=pieces)


def _fold_latin(text: str, runs: bool = True) -> Folded | None:
    """The ASCII path for text whose every non-ASCII character folds to one ASCII character.

    Most European news is ASCII but for curly quotes, dashes and accented letters: replacing
    each distinct such character (a few per article, each a C-level str.replace) keeps every
    offset, so the ASCII path and its lazy offset map apply, instead of the per-character loop
    of :func:`_fold_general` (about 20x slower). ``None`` when some character needs that loop
    (dropped, expanded like "æ", or not folding to ASCII like Cyrillic).
    """
    cache = _FOLD
    for ch in set(_NON_ASCII.findall(text)):
        piece = cache.get(ch)
        if piece is None:
            piece = cache[ch] = _fold_char(ch)
        if len(piece) != 1 or not piece.isascii():
            return None
        text = text.replace(ch, piece)
    return _fold_ascii(text, runs)


def fold(text: str) -> Folded:
    """Fold ``text`` for case- and accent-insensitive matching, keeping an offset map."""
    if text.isascii():
        return _fold_ascii(text)
    return _fold_latin(text) or _fold_general(text)


def fold_words(text: str) -> Folded:
    """:func:`fold`, but runs of spaces stay as they are when none lies between two words.

    For finding whole-word keys (letters, digits and single spaces) the two are the same then:
    a key can only span a run between two words. Keeping the runs keeps every offset (no map
    to build or to look up), and most runs in news text follow a full stop or start a line.
    """
    if text.isascii():
        return _fold_ascii(text, runs=False)
    return _fold_latin(text, runs=False) or _fold_general(text)


def _fold_general(text: str) -> Folded:
    """Any text, one character at a time, with an explicit offset map."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    cache = _FOLD
    for i, ch in enumerate(text):
        piece = cache.get(ch)
        if piece is None:
            piece = cache[ch] = _fold_char(ch)
        if not piece:
            # A dropped accent belongs to the letter before it; invisible characters do not.
            if ends and unicodedata.combining(ch):
                ends[-1] = i + 1
            continue
        if piece == " " or piece == "-":
            if out and out[-1] == " ":
                ends[-1] = i + 1
                continue
            piece = " "
        for c in piece:
            out.append(c)
            starts.append(i)
            ends.append(i + 1)
    return Folded("".join(out), starts, ends)


def fold_cased(text: str) -> str:
    """NFKC + typographic folding, case and accents kept, separator runs collapsed."""
    if text.isascii():
        return _SEP_RUN.sub(" ", text)
    cache = _FOLD_CASED
    out: list[str] = []
    for ch in text:
        piece = cache.get(ch)
        if piece is None:
            piece = cache[ch] = _fold_cased_char(ch)
        out.append(piece)
    # NFC so that a decomposed "e" + U+0301 equals a written "é".
    return _SEP_RUN.sub(" ", unicodedata.normalize("NFC", "".join(out)))
