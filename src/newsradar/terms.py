"""One watchlist term: how it is written, its search key, and the checks a hit must pass.

A term is searched for by its *key* (the folded text, see :mod:`newsradar.normalize`) in one
multi-pattern automaton; each hit is then checked against the rules the key cannot express:
whole words (rule 1), acronyms written in capitals (rule 3), ``cs("...")`` exact case (rule 4).

    >>> term = parse_term("North Korean*")
    >>> term.key, term.prefix
    ('north korean', True)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from newsradar.normalize import fold, fold_cased, is_nospace_char, is_word_char, word_view

__all__ = ["Term", "TermError", "parse_term"]

_CS = re.compile(r'^cs\(\s*"(.*)"\s*\)$', re.S)
# Acronym modes per word: none, capitals only (2-3 letters), capitals or title case (4-5).
NO_ACRONYM, CAPS_ONLY, CAPS_OR_TITLE = 0, 1, 2
_MIN_PREFIX = 3
# Far above any real name or phrase, far below Hyperscan's pattern limit (about 16,000 bytes).
_MAX_CHARS = 1000


class TermError(ValueError):
    """A term that cannot be compiled; ``column`` is 1-based within the term as written."""

    def __init__(self, problem: str, column: int | None = None) -> None:
        self.problem = problem
        self.column = column
        super().__init__(problem)


@dataclass(frozen=True, slots=True)
class Term:
    """A compiled term. Two terms with equal fields behave identically and are shared."""

    # The folded search key: words joined by single spaces, no trailing '*'.
    key: str
    # True when written with a trailing '*': the last word may continue.
    prefix: bool = False
    # cs("..."): the hit must equal ``cased`` (NFKC + typographic folding only).
    case_sensitive: bool = False
    cased: str = ""
    # Per word of ``cased``: NO_ACRONYM, CAPS_ONLY or CAPS_OR_TITLE (rule 3).
    acronyms: tuple[int, ...] = ()
    # Whether a letter or digit may not touch the term on that side (off for CJK/Hangul edges).
    check_left: bool = True
    check_right: bool = True
    # Punctuation inside, or a script without spaces: found by substring, checked per hit.
    # Other terms are whole-word keys, checked by the automaton itself.
    literal: bool = False

    # True when a hit must be checked against the original (cased) text.
    needs_original: bool = False

    def at_boundaries(self, folded: str, start: int, end: int) -> bool:
        """Rule 1 on the folded text: no letter or digit touches the hit."""
        if self.check_left and start > 0 and is_word_char(folded[start - 1]):
            return False
        if self.check_right and end < len(folded) and is_word_char(folded[end]):
            return False
        return True

    def accepts(self, original: str) -> bool:
        """Rules 3 and 4 on the original slice of a hit."""
        cased = fold_cased(original)
        if self.case_sensitive:
            return cased == self.cased
        words = cased.split(" ")
        if len(words) != len(self.acronyms):
            # The hit spans dropped characters we cannot align; judge the term as a whole.
            words = ["".join(words)] * len(self.acronyms)
        for word, mode in zip(words, self.acronyms, strict=True):
            if mode == NO_ACRONYM:
                continue
            if any(c.islower() for c in word) and not (mode == CAPS_OR_TITLE and word.istitle()):
                return False
        return True


def _acronym_mode(word: str) -> int:
    if 2 <= len(word) <= 5 and word.isalpha() and word.isupper():
        return CAPS_ONLY if len(word) <= 3 else CAPS_OR_TITLE
    return NO_ACRONYM


def parse_term(written: str, *, case_sensitive: bool = False) -> Term:
    """Compile a term as written in ``terms``, ``exclude`` or a query (``cs("...")`` too)."""
    text = written.strip()
    offset = len(written) - len(written.lstrip()) + 1
    cs = _CS.match(text)
    if cs:
        text, case_sensitive, offset = cs.group(1), True, offset + text.index('"') + 1
    elif text.startswith("cs(") or text.startswith("cs ("):
        raise TermError('write a case-sensitive term as cs("China"), with double quotes', offset)
    if not text.strip():
        raise TermError("empty term; remove it or write the words to match", offset)
    if len(text) > _MAX_CHARS:
        raise TermError(
            f"term is longer than {_MAX_CHARS} characters; shorten it to the words to match",
            offset,
        )
    star = text.find("*")
    if star != -1 and star != len(text.rstrip()) - 1:
        raise TermError(
            "'*' may only end a term (a word prefix), e.g. \"transfer*\"; remove the others",
            offset + star,
        )
    prefix = star != -1
    body = text.rstrip()[:-1] if prefix else text
    key = fold(body).text.strip()
    if not key:
        raise TermError(f"term {written!r} has no letters or digits to match", offset)
    if prefix and body.rstrip() != body:
        raise TermError("'*' must follow a word without a space, e.g. \"munition*\"", offset + star)
    if prefix and len(key.rsplit(" ", 1)[-1]) < _MIN_PREFIX and not is_nospace_char(key[-1]):
        raise TermError(
            f"prefix {text!r} is too short and would match too many words; "
            f"give at least {_MIN_PREFIX} letters before '*'",
            offset + star,
        )
    cased = fold_cased(body).strip()
    acronyms = () if case_sensitive else tuple(_acronym_mode(w) for w in cased.split(" "))
    return Term(
        key=key,
        prefix=prefix,
        case_sensitive=case_sensitive,
        cased=cased if case_sensitive else "",
        acronyms=acronyms,
        check_left=not is_nospace_char(key[0]),
        check_right=not prefix and not is_nospace_char(key[-1]),
        literal=word_view(key) != key,
        needs_original=case_sensitive or any(acronyms),
    )
