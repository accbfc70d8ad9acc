"""Many literal keys found at once in one text: Hyperscan's literal compiler, per-thread scratch.

    >>> scanner = KeyScanner([" nato ", " north korea "])
    >>> scanner.ends(" nato and north korea ")
    [(6, 0), (22, 1)]

:meth:`KeyScanner.ends` reports every occurrence, overlapping ones included, as (end offset
in characters, key index), in order of end. The matcher (:mod:`newsradar.match`) uses it for
the whole-word keys of a watchlist: measured on Reuters text with 10,000 watches, the scan costs
about half of what pyahocorasick's ``Automaton.iter`` does on the same keys, and compiling
100,000 watches' keys takes under a second.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import hyperscan

__all__ = ["KeyScanner", "Pattern"]


def _record(key: int, _start: int, end: int, _flags: int, found: Any) -> None:
    # Called by Hyperscan per match; returning None lets the scan go on.
    found.append((end, key))


class _Compiled:
    """A Hyperscan database and one scratch space per thread that scans with it."""

    def __init__(self) -> None:
        self._database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._local = threading.local()

    def _scratch(self) -> hyperscan.Scratch:
        scratch: hyperscan.Scratch | None = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = hyperscan.Scratch(self._database)
        return scratch

    def __getstate__(self) -> object:
        raise TypeError(
            f"a {type(self).__name__} cannot be pickled; compile the watchlist in each process"
        )


class Pattern(_Compiled):
    """Whether a regular expression occurs in ASCII text, e.g. ``Pattern(rb"[a-z]  +[a-z]")``.

    About twice as fast as :mod:`re` for a pattern without a literal to search for first.
    """

    def __init__(self, pattern: bytes) -> None:
        super().__init__()
        self._database.compile(
            expressions=[pattern], ids=[0], elements=1, flags=hyperscan.HS_FLAG_SINGLEMATCH
        )

    def search(self, text: str) -> bool:
        found: list[tuple[int, int]] = []
        self._database.scan(text.encode("ascii"), _record, context=found, scratch=self._scratch())
        return bool(found)


class KeyScanner(_Compiled):
    """Compiled keys; :meth:`ends` is thread-safe (one Hyperscan scratch space per thread)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("KeyScanner needs at least one key")
        super().__init__()
        # UTF-8: a key starting with an ASCII character (the matcher's keys start with a
        # space) can only match at a character boundary of the text.
        self._database.compile(
            expressions=[key.encode("utf-8") for key in keys],
            ids=list(range(len(keys))),
            elements=len(keys),
            flags=0,
            literal=True,
        )

    def ends(self, text: str) -> list[tuple[int, int]]:
        """(end offset in characters, key index) of every occurrence, in order of end."""
        found: list[tuple[int, int]] = []
        scratch = getattr(self._local, "scratch", None) or self._scratch()
        if text.isascii():
            self._database.scan(text.encode("ascii"), _record, context=found, scratch=scratch)
            # Hyperscan does not promise the order of matches (it reports them by end in
            # practice, so this sort only checks that).
            found.sort()
            return found
        raw = text.encode("utf-8")
        self._database.scan(raw, _record, context=found, scratch=scratch)
        found.sort()
        # Byte offsets to character offsets, decoding each stretch between two ends once.
        converted: list[tuple[int, int]] = []
        byte = char = 0
        for end, key in found:
            char += len(raw[byte:end].decode("utf-8"))
            byte = end
            converted.append((char, key))
        return converted
